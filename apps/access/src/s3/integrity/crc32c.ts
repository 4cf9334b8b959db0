/**
 * CRC-32C (Castagnoli): reflected, polynomial 0x1EDC6F41, init and final xor all ones. Check value
 * for "123456789" is 0xE3069283. Sliced by 8: the byte-at-a-time JavaScript implementation in
 * @aws-crypto/crc32c runs at a few tens of MB/s, far below what an upload needs.
 */
const REFLECTED_POLY = 0x82f63b78;
const TABLE_SIZE = 256;
const SLICES = 8;

function buildTable(): Uint32Array {
  const table = new Uint32Array(TABLE_SIZE * SLICES);
  for (let n = 0; n < TABLE_SIZE; n++) {
    let crc = n;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ REFLECTED_POLY : crc >>> 1;
    table[n] = crc >>> 0;
  }
  for (let slice = 1; slice < SLICES; slice++) {
    for (let n = 0; n < TABLE_SIZE; n++) {
      const prev = table[(slice - 1) * TABLE_SIZE + n];
      table[slice * TABLE_SIZE + n] = ((prev >>> 8) ^ table[prev & 0xff]) >>> 0;
    }
  }
  return table;
}

const TABLE = buildTable();

export class Crc32c {
  private crc = 0xffffffff;

  update(data: Uint8Array): this {
    const t = TABLE;
    let crc = this.crc;
    let i = 0;
    const sliceEnd = data.length - (data.length % SLICES);
    for (; i < sliceEnd; i += SLICES) {
      const lo = crc ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
      crc =
        t[7 * TABLE_SIZE + (lo & 0xff)] ^
        t[6 * TABLE_SIZE + ((lo >>> 8) & 0xff)] ^
        t[5 * TABLE_SIZE + ((lo >>> 16) & 0xff)] ^
        t[4 * TABLE_SIZE + (lo >>> 24)] ^
        t[3 * TABLE_SIZE + data[i + 4]] ^
        t[2 * TABLE_SIZE + data[i + 5]] ^
        t[TABLE_SIZE + data[i + 6]] ^
        t[data[i + 7]];
    }
    for (; i < data.length; i++) crc = (crc >>> 8) ^ t[(crc ^ data[i]) & 0xff];
    this.crc = crc >>> 0;
    return this;
  }

  /** The 4-byte big-endian checksum, as S3 base64-encodes it. */
  digest(): Buffer {
    const out = Buffer.alloc(4);
    out.writeUInt32BE((this.crc ^ 0xffffffff) >>> 0, 0);
    return out;
  }
}
