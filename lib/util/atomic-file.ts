/**
 * Files that must never be seen half-written (gateway state, blobs, replay state): write a
 * temporary file next to the target, fsync it, rename it over the target, fsync the directory.
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync, constants as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

export function writeFileAtomic(path: string, data: Uint8Array | string, mode = 0o600): void {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temporary, fs.O_WRONLY | fs.O_CREAT | fs.O_EXCL, mode);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let offset = 0;
    while (offset < bytes.byteLength) offset += writeSync(fd, bytes, offset, bytes.byteLength - offset);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(temporary);
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temporary, path);
  } catch (error) {
    unlinkSync(temporary);
    throw error;
  }
  syncDirectory(dirname(path));
}

function syncDirectory(path: string): void {
  const fd = openSync(path, fs.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Holds `${path}.lock` (created with O_EXCL) while `work` runs, so two ipsec-ctx processes
 * never interleave read-modify-write cycles on the same file.
 */
export async function withLockFile<T>(path: string, onBusy: () => Error, work: () => Promise<T> | T): Promise<T> {
  const lock = `${path}.lock`;
  let fd: number;
  try {
    fd = openSync(lock, fs.O_WRONLY | fs.O_CREAT | fs.O_EXCL, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw onBusy();
    throw error;
  }
  try {
    writeSync(fd, `${process.pid}\n`);
    return await work();
  } finally {
    closeSync(fd);
    unlinkSync(lock);
  }
}
