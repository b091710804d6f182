import { CorruptEntryError } from "@mimic/core";
import { readHeader, type EntryEncoding } from "./entry.js";
import { HEAD_READ_SIZE, type EntryHeader } from "./format.js";
import { read, type Steps } from "./fs-steps.js";

/** An entry file's checked header, the bytes read, and the file's size. */
export interface EntryHead {
  readonly header: EntryHeader;
  /** The start of the file: with `whole`, at least up to the payload (key and tags included). */
  readonly bytes: Buffer;
  readonly size: number;
}

/**
 * Reads and checks the header of the entry file at `path`, without its payload.
 * @param whole also read the key and tags when they do not fit in the first read
 * @throws CorruptEntryError for a file that is not an entry of this codec; the file system's error
 *   (ENOENT when it is gone)
 */
export function* readHead(path: string, codec: EntryEncoding, whole: boolean): Steps<EntryHead> {
  let { bytes, size } = yield* read(path, HEAD_READ_SIZE);
  let header = readHeader(bytes, size, codec, path);
  // A long key or tag list needs a second read. The file may be replaced in between (writes rename
  // a new file over it): what counts is the latest read, checked again, until it holds the header.
  for (let attempt = 0; whole && bytes.length < header.payloadOffset; attempt++) {
    if (attempt === 3) throw new CorruptEntryError(`TempFileState: entry file ${path} keeps changing while its header is read`);
    ({ bytes, size } = yield* read(path, header.payloadOffset));
    header = readHeader(bytes, size, codec, path);
  }
  return { header, bytes, size };
}

/** The key stored in an entry whose head was read whole. */
export function keyOf(head: EntryHead): string {
  return head.bytes.toString("utf16le", head.header.keyOffset, head.header.tagsOffset);
}
