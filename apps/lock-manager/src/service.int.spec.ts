import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeServiceBoot } from '@cairn/testing';
import { LockManagerService } from './service';

const dataDir = mkdtempSync(path.join(tmpdir(), 'cairn-lock-boot-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describeServiceBoot(LockManagerService, { dependencies: ['nats'], env: { CAIRN_DATA_DIR: dataDir } });
