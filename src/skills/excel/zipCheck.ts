import { inflateRawSync } from 'node:zlib';

/**
 * An .xlsx is a zip. Before a workbook library inflates it, check what it would inflate to: a
 * small upload must not turn into gigabytes in memory (a "zip bomb"). The sizes a zip declares can
 * lie, so every deflated entry is actually inflated here with a hard output cap (zlib's
 * `maxOutputLength`), and the total is capped too. Only then is the file handed to exceljs, which
 * inflates the same, now known-bounded, data again.
 */

export interface ZipLimits {
  maxEntries: number;
  /** Inflated bytes across all entries. */
  maxTotalBytes: number;
}

export class ZipProblem extends Error {
  constructor(
    readonly kind: 'not_zip' | 'too_big' | 'unsupported',
    message: string,
  ) {
    super(message);
    this.name = 'ZipProblem';
  }
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;

export function isZip(bytes: Buffer): boolean {
  return bytes.length >= 4 && bytes.readUInt32LE(0) === LOCAL_SIGNATURE;
}

/** Throws a ZipProblem unless the archive is a plain zip whose entries inflate within the limits. */
export function checkZip(bytes: Buffer, limits: ZipLimits): void {
  if (!isZip(bytes)) throw new ZipProblem('not_zip', 'not a zip archive');
  const eocd = findEndOfCentralDirectory(bytes);
  const entries = bytes.readUInt16LE(eocd + 10);
  const directoryOffset = bytes.readUInt32LE(eocd + 16);
  if (entries === 0xffff || directoryOffset === 0xffffffff) throw new ZipProblem('unsupported', 'zip64 archives are not supported');
  if (entries > limits.maxEntries) throw new ZipProblem('too_big', `${entries} entries; the limit is ${limits.maxEntries}`);
  let at = directoryOffset;
  let total = 0;
  for (let i = 0; i < entries; i++) {
    if (at + 46 > bytes.length || bytes.readUInt32LE(at) !== CENTRAL_SIGNATURE) throw new ZipProblem('not_zip', 'damaged central directory');
    const method = bytes.readUInt16LE(at + 10);
    const compressedSize = bytes.readUInt32LE(at + 20);
    const declaredSize = bytes.readUInt32LE(at + 24);
    const nameLength = bytes.readUInt16LE(at + 28);
    const extraLength = bytes.readUInt16LE(at + 30);
    const commentLength = bytes.readUInt16LE(at + 32);
    const localOffset = bytes.readUInt32LE(at + 42);
    at += 46 + nameLength + extraLength + commentLength;
    if (compressedSize === 0xffffffff || declaredSize === 0xffffffff || localOffset === 0xffffffff) {
      throw new ZipProblem('unsupported', 'zip64 entries are not supported');
    }
    const budget = limits.maxTotalBytes - total;
    if (declaredSize > budget) throw new ZipProblem('too_big', `it would unpack to more than ${limits.maxTotalBytes} bytes`);
    if (localOffset + 30 > bytes.length || bytes.readUInt32LE(localOffset) !== LOCAL_SIGNATURE) throw new ZipProblem('not_zip', 'damaged entry');
    const dataStart = localOffset + 30 + bytes.readUInt16LE(localOffset + 26) + bytes.readUInt16LE(localOffset + 28);
    if (dataStart + compressedSize > bytes.length) throw new ZipProblem('not_zip', 'truncated entry');
    if (method === 0) {
      total += compressedSize;
    } else if (method === 8) {
      let inflated: Buffer;
      try {
        inflated = inflateRawSync(bytes.subarray(dataStart, dataStart + compressedSize), { maxOutputLength: Math.max(1, budget) });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
          throw new ZipProblem('too_big', `it would unpack to more than ${limits.maxTotalBytes} bytes`);
        }
        throw new ZipProblem('not_zip', 'damaged compressed data');
      }
      total += inflated.length;
    } else {
      throw new ZipProblem('unsupported', `compression method ${method}`);
    }
    if (total > limits.maxTotalBytes) throw new ZipProblem('too_big', `it would unpack to more than ${limits.maxTotalBytes} bytes`);
  }
}

function findEndOfCentralDirectory(bytes: Buffer): number {
  // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  const stop = Math.max(0, bytes.length - 22 - 0xffff);
  for (let i = bytes.length - 22; i >= stop; i--) {
    if (bytes.readUInt32LE(i) === EOCD_SIGNATURE) return i;
  }
  throw new ZipProblem('not_zip', 'no zip directory (truncated or not a zip)');
}
