import { checkpointChannel, parseCheckpointPayload } from './checkpoint-notifications';

describe('checkpoint notifications: channel and payload', () => {
  it('names one channel per schema, within the 63 bytes Postgres allows', () => {
    expect(checkpointChannel('cairn_t1')).toBe('cairn_t1:checkpoints');
    expect(checkpointChannel('cairn_t1')).not.toBe(checkpointChannel('cairn_t2'));
    const long = `cairn_${'x'.repeat(57)}`;
    expect(Buffer.byteLength(checkpointChannel(long))).toBeLessThanOrEqual(63);
    expect(checkpointChannel(long)).not.toBe(checkpointChannel(`${long.slice(0, -1)}y`));
  });

  it('reads the checkpoint row name and sequence the projector sends', () => {
    expect(parseCheckpointPayload('metadata 42')).toEqual({ projection: 'metadata', sequence: 42 });
    expect(parseCheckpointPayload('metadata@CLUSTER 7')).toEqual({ projection: 'metadata@CLUSTER', sequence: 7 });
  });

  it('ignores payloads it did not send', () => {
    for (const payload of [undefined, '', '42', 'metadata', 'metadata x', ' 5']) expect(parseCheckpointPayload(payload)).toBeUndefined();
  });
});
