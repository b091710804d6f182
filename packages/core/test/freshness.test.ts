import { ConfigError, InvalidOptionError, InvalidTtlError, MemoryState, Mime, MimicError, MimicTimeoutError } from "../src/index";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("ttl from the result", () => {
  test("called once per execution with (result, args); 0 means do not store", async () => {
    const seen: unknown[] = [];
    let calls = 0;
    const find = Mime({
      state: new MemoryState(),
      ttl: (user: unknown, args: unknown[]) => {
        seen.push([user, args]);
        return user === null ? 0 : 60;
      },
    })(async (id: number) => {
      calls++;
      return id === 0 ? null : { id };
    });
    await find(1);
    await find(1);
    await find(0);
    await find(0);
    expect(calls).toBe(3); // 1 once, 0 twice (not stored)
    expect(seen).toEqual([[{ id: 1 }, [1]], [null, [0]], [null, [0]]]);
    expect(await find.peek(0)).toBeUndefined();
    expect(await find.peek(1)).toEqual({ value: { id: 1 } });
  });

  test("negative caching: a short ttl for 'not found' expires, a long one stays", async () => {
    let calls = 0;
    const find = Mime({ state: new MemoryState(), ttl: (user: unknown) => (user === undefined ? 0.05 : 60) })((id: number) => {
      calls++;
      return id > 0 ? `user ${id}` : undefined;
    });
    find(-1);
    find(5);
    expect(find(-1)).toBeUndefined();
    expect(calls).toBe(2);
    await sleep(120);
    find(-1);
    find(5);
    expect(calls).toBe(3); // "not found" expired, the user did not
  });

  test("null from the ttl function means never expires", () => {
    let calls = 0;
    const f = Mime({ state: new MemoryState(), ttl: () => null })((n: number) => n + calls++);
    f(1);
    f(1);
    expect(calls).toBe(1);
  });

  test.each([
    ["throws", () => {
      throw new Error("no header");
    }, /threw \(no header\)/],
    ["returns a negative number", () => -1, /returned -1/],
    ["returns NaN", () => NaN, /returned NaN/],
    ["returns a string", () => "60" as unknown as number, /returned "60"/],
  ])("a ttl function that %s never fails the call: returned, not stored, reported", async (_, ttl, message) => {
    const errors: MimicError[] = [];
    let calls = 0;
    const f = Mime({ state: new MemoryState(), ttl, onError: (error) => errors.push(error) })(async (n: number) => n + calls++);
    await expect(f(1)).resolves.toBe(1);
    await expect(f(1)).resolves.toBe(2);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toBeInstanceOf(InvalidTtlError);
    expect(errors[0]!.message).toMatch(message);
    expect(errors[0]!.message).toMatch(/returned but not cached/);
  });

  test("adaptive ttl from an HTTP Cache-Control header", async () => {
    const maxAge = (response: { headers: Record<string, string> }): number | null => {
      const match = /max-age=(\d+)/.exec(response.headers["cache-control"] ?? "");
      return match ? Number(match[1]) : 0;
    };
    let calls = 0;
    const fetchDoc = Mime({ state: new MemoryState(), ttl: maxAge })(async (url: string) => {
      calls++;
      return { url, headers: { "cache-control": url.endsWith("static") ? "public, max-age=3600" : "no-store" } };
    });
    await fetchDoc("/static");
    await fetchDoc("/static");
    await fetchDoc("/live");
    await fetchDoc("/live");
    expect(calls).toBe(3);
  });

  test("with stale windows, the window counts from the computed expiry", async () => {
    let calls = 0;
    const f = Mime({ state: new MemoryState(), ttl: () => 0.05, staleIfError: 5, onError: () => undefined })(async () => {
      calls++;
      if (calls > 1) throw new Error("down");
      return "v1";
    });
    await f();
    await sleep(100);
    await expect(f()).resolves.toBe("v1"); // stale-if-error covers the failure
  });
});

describe("refresh ahead (XFetch)", () => {
  test("a hot key is recomputed in the background before it expires; no caller waits", async () => {
    let version = 0;
    const hot = Mime({ state: new MemoryState(), ttl: 30, refreshAhead: 1e9 })(async () => {
      await sleep(20); // Δ ≈ 20 ms, β huge: every hit is "close enough" to expiry
      return ++version;
    });
    await expect(hot()).resolves.toBe(1);
    await expect(hot()).resolves.toBe(1); // a hit, which starts the refresh (it runs on the next turn)
    expect(hot.stats()).toMatchObject({ hits: 1, misses: 1 });
    await sleep(80);
    expect(hot.stats()).toMatchObject({ misses: 2 });
    await expect(hot()).resolves.toBe(2); // the refreshed value, again without waiting
    expect(hot.stats().hits).toBe(2);
  });

  test.each([
    ["refresh ahead", { ttl: 30, refreshAhead: 1e9 }, 0],
    ["stale-while-revalidate", { ttl: 0.03, staleWhileRevalidate: 10 }, 60],
  ])("%s: the call that starts a refresh returns before any of the function runs, its synchronous part included", async (_, options, wait) => {
    const events: string[] = [];
    let version = 0;
    const f = Mime({ state: new MemoryState(), ...options })(async () => {
      events.push("function"); // the synchronous part, before the first await
      await sleep(5);
      return ++version;
    });
    await f();
    await sleep(wait);
    events.length = 0;
    const answer = f();
    events.push("returned");
    await expect(answer).resolves.toBe(1);
    for (let waited = 0; events.length < 2 && waited < 2000; waited += 10) await sleep(10);
    expect(events).toEqual(["returned", "function"]);
  });

  test("a cold key far from expiry is left alone", async () => {
    let calls = 0;
    const cold = Mime({ state: new MemoryState(), ttl: 30, refreshAhead: true })(async () => {
      await sleep(5);
      return ++calls;
    });
    await cold();
    for (let i = 0; i < 50; i++) await cold();
    await sleep(20);
    expect(calls).toBe(1);
  });

  test("one refresh per key at a time", async () => {
    let calls = 0;
    const hot = Mime({ state: new MemoryState(), ttl: 30, refreshAhead: 1e9 })(async () => {
      await sleep(30);
      return ++calls;
    });
    await hot();
    await Promise.all(Array.from({ length: 20 }, () => hot()));
    await sleep(80);
    expect(calls).toBe(2);
  });

  test("sync functions refresh on the next turn", async () => {
    let calls = 0;
    const hot = Mime({ state: new MemoryState(), ttl: 30, refreshAhead: 1e12 })(() => {
      const until = performance.now() + 2;
      while (performance.now() < until);
      return ++calls;
    });
    expect(hot()).toBe(1);
    expect(hot()).toBe(1);
    await sleep(20);
    expect(hot()).toBe(2);
  });

  test.each([
    [{ refreshAhead: true }, /needs a ttl/],
    [{ ttl: 5, refreshAhead: 0 }, /β > 0/],
    [{ ttl: 5, refreshAhead: -1 }, /β > 0/],
    [{ ttl: 5, refreshAhead: "yes" }, /β > 0/],
  ])("%p is refused", (options, message) => {
    expect(() => Mime(options as never)).toThrow(InvalidOptionError);
    expect(() => Mime(options as never)).toThrow(message);
  });
});

describe("timeouts", () => {
  test("past hard, the call rejects with MIMIC_TIMEOUT; the late result is still stored", async () => {
    let calls = 0;
    const slow = Mime({ state: new MemoryState(), ttl: 60, timeout: { hard: 0.05 } })(async () => {
      calls++;
      await sleep(150);
      return "late";
    });
    const error = await slow().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MimicTimeoutError);
    expect((error as MimicTimeoutError).code).toBe("MIMIC_TIMEOUT");
    await sleep(200);
    await expect(slow()).resolves.toBe("late");
    expect(calls).toBe(1);
  });

  test.each(["invalidate", "clear", "invalidateTags"] as const)(
    "an execution running on past its timeout is voided by %s: later calls run the function again, and its late result is not stored",
    async (how) => {
      let runs = 0;
      const slow = Mime({ state: new MemoryState(), ttl: 60, timeout: { hard: 0.05 }, tags: () => ["slow"] })(async (id: number) => {
        const run = ++runs;
        await sleep(run === 1 ? 200 : 0);
        return `run ${run} of ${id}`;
      });
      await expect(slow(1)).rejects.toThrow(MimicTimeoutError);
      if (how === "invalidate") await slow.invalidate(1);
      else if (how === "clear") await slow.clear();
      else await Mime.invalidateTags(["slow"]);
      await expect(slow(1)).resolves.toBe("run 2 of 1");
      await sleep(250); // the first execution ends, and must not overwrite the newer entry
      await expect(slow(1)).resolves.toBe("run 2 of 1");
      expect(runs).toBe(2);
      await slow.invalidate(1);
      await expect(slow.peek(1)).resolves.toBeUndefined();
    },
  );

  test("past soft, a stale value in the staleIfError window is returned; the refresh finishes in the background", async () => {
    let calls = 0;
    const errors: MimicError[] = [];
    const price = Mime({ state: new MemoryState(), ttl: 0.05, staleIfError: 10, timeout: { soft: 0.05, hard: 5 }, onError: (e) => errors.push(e) })(
      async () => {
        calls++;
        if (calls > 1) await sleep(200);
        return `v${calls}`;
      },
    );
    await expect(price()).resolves.toBe("v1");
    await sleep(80); // expired, within the window
    const started = Date.now();
    await expect(price()).resolves.toBe("v1");
    expect(Date.now() - started).toBeLessThan(5000); // answered by the soft timeout, not the hard one
    expect(errors.some((e) => e.code === "MIMIC_STALE_FALLBACK")).toBe(true);
    await sleep(300);
    await expect(price()).resolves.toBe("v2"); // the late result was stored
  });

  test("a stale answer given past soft is joined only inside its staleIfError window", async () => {
    let runs = 0;
    const price = Mime({ state: new MemoryState(), ttl: 0.1, staleIfError: 0.2, timeout: { soft: 0.05, hard: 5 }, onError: () => undefined })(
      async () => {
        const run = ++runs;
        if (run === 2) await sleep(700);
        return `v${run}`;
      },
    );
    await expect(price()).resolves.toBe("v1");
    await sleep(150); // expired at 100 ms; its window ends at 300 ms
    await expect(price()).resolves.toBe("v1"); // run 2 is slow: the stale value, past soft
    await expect(price()).resolves.toBe("v1"); // joined, inside the window
    await sleep(250); // past the window, run 2 still running
    await expect(price()).resolves.toBe("v3"); // not the stale answer: a new run
    await sleep(500);
  });

  test("without a stale value, soft does nothing and hard still bounds the call", async () => {
    const slow = Mime({ state: new MemoryState(), timeout: { soft: 0.01, hard: 0.08 } })(async () => {
      await sleep(300);
      return 1;
    });
    await expect(slow()).rejects.toThrow(MimicTimeoutError);
  });

  test("a number is both soft and hard", async () => {
    const slow = Mime({ state: new MemoryState(), timeout: 0.03 })(async () => {
      await sleep(200);
      return 1;
    });
    await expect(slow()).rejects.toThrow(/timeout of 0.03 s/);
  });

  test("timeout on a sync function is a wrap-time error", () => {
    expect(() => Mime({ state: new MemoryState(), timeout: 1 })((n: number) => n)).toThrow(ConfigError);
    expect(() => Mime({ state: new MemoryState(), timeout: 1 })((n: number) => n)).toThrow(/needs an async function/);
  });

  test.each([
    [{ timeout: 0 }, /more than 0/],
    [{ timeout: { soft: 2, hard: 1 } }, /must not be more than/],
    [{ timeout: {} }, /needs soft, hard or both/],
    [{ timeout: { sfot: 1 } }, /unknown option "sfot"/],
    [{ timeout: "1s" }, /number of seconds/],
  ])("%p is refused", (options, message) => {
    expect(() => Mime(options as never)).toThrow(message);
  });
});
