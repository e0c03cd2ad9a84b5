import { mkdir, mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32c } from "./crc32c.js";
import { SnapshotChecksumError } from "./errors.js";

/**
 * Where incoming snapshot data waits until its checksum is verified: a directory of spool
 * files, one per sender. The directory is created on first use; if the transport created
 * it, it is removed on close.
 */
export class SpoolDirectory {
  private path: Promise<string> | undefined;

  constructor(private readonly configured: string | undefined) {}

  get(): Promise<string> {
    const configured = this.configured;
    this.path ??=
      configured === undefined
        ? mkdtemp(join(tmpdir(), "raftkv-snapshot-"))
        : mkdir(configured, { recursive: true }).then(() => configured);
    return this.path;
  }

  /** Removes the directory if the transport created it. */
  async remove(): Promise<void> {
    if (this.configured !== undefined || this.path === undefined) return;
    await rm(await this.path, { recursive: true, force: true });
  }
}

/**
 * Reads a verified spool file back as the data handed to Raft, checking the CRC-32C once
 * more on the way out, so what the state machine consumes is exactly what the sender
 * read from its own state machine (disk corruption in between is caught too): a mismatch
 * makes the iterable throw SnapshotChecksumError after the last chunk.
 */
export async function* readSpool(
  path: string,
  expectedCrc32c: number,
  chunkBytes: number,
): AsyncGenerator<Uint8Array> {
  const file = await open(path, "r");
  try {
    let crc = 0;
    let position = 0;
    for (;;) {
      const buffer = Buffer.allocUnsafe(chunkBytes);
      const { bytesRead } = await file.read(buffer, 0, chunkBytes, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      const chunk = buffer.subarray(0, bytesRead);
      crc = crc32c(chunk, crc);
      yield chunk;
    }
    if (crc !== expectedCrc32c) throw new SnapshotChecksumError(expectedCrc32c, crc);
  } finally {
    await file.close();
  }
}
