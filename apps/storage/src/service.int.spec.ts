import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeServiceBoot } from '@cairn/testing';
import { StorageService } from './service';

const dataDir = mkdtempSync(path.join(tmpdir(), 'cairn-storage-boot-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describeServiceBoot(StorageService, {
  dependencies: ['nats', 'disk'],
  env: { CAIRN_DATA_DIR: dataDir },
  badValue: { variable: 'CAIRN_STORAGE_ZONE', value: 'Zone One' },
});
