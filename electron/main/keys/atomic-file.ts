import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** Suffix of files still being written; readers ignore them and a sweep removes stale ones. */
export const TEMP_SUFFIX = '.tmp';

export async function fsyncDirectory(directory: string): Promise<void> {
  // Makes the rename itself durable; Windows cannot open a directory for this and does not need it.
  if (process.platform === 'win32') return;
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes a file so that a crash at any moment leaves either the old file or the new one, whole:
 * content goes to a fresh temporary file beside it (owner-only), is fsynced, then renamed over
 * the target, and the directory is fsynced so the rename survives a power cut.
 */
export async function writeFileAtomic(
  filePath: string,
  content: Uint8Array | AsyncIterable<Uint8Array>,
  mode = 0o600,
): Promise<void> {
  const tempPath = `${filePath}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
  const handle = await open(tempPath, 'wx', mode);
  let closed = false;
  let renamed = false;
  try {
    const pieces = content instanceof Uint8Array ? [content] : content;
    for await (const piece of pieces) {
      let offset = 0;
      while (offset < piece.length) {
        const { bytesWritten } = await handle.write(piece, offset, piece.length - offset);
        offset += bytesWritten;
      }
    }
    await handle.sync();
    await handle.close();
    closed = true;
    await rename(tempPath, filePath);
    renamed = true;
    await fsyncDirectory(path.dirname(filePath));
  } finally {
    if (!closed) await handle.close().catch(() => undefined);
    if (!renamed) await rm(tempPath, { force: true });
  }
}
