import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { usageError } from '../domain/exit-codes';
import type { ProfileFile } from '../domain/settings';

/** The repository this CLI runs from: `npm start` leaves its development profile in .cairn/ there. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');
export const REPO_PROFILE_FILE = path.join(REPO_ROOT, '.cairn', 'profile.json');
/** A profile file larger than this is not a profile. */
const PROFILE_MAX_BYTES = 1024 * 1024;

export function homeProfileFile(): string {
  return path.join(os.homedir(), '.cairn', 'profile.json');
}

/**
 * Where the profile is read from: --profile, else CAIRN_PROFILE, else the repository's
 * .cairn/profile.json (written by `npm start`), else ~/.cairn/profile.json.
 */
export function profilePathFor(explicit: string | undefined): { path: string; explicit: boolean } {
  if (explicit) return { path: path.resolve(explicit), explicit: true };
  if (fs.existsSync(REPO_PROFILE_FILE)) return { path: REPO_PROFILE_FILE, explicit: false };
  return { path: homeProfileFile(), explicit: false };
}

/** Reads a profile; a missing default profile is no profile, a missing named one is a mistake. */
export function readProfile(file: string, explicit: boolean): ProfileFile | null {
  let text: string;
  try {
    const stat = fs.statSync(file);
    if (stat.size > PROFILE_MAX_BYTES) throw usageError(`profile ${file} is larger than ${PROFILE_MAX_BYTES} bytes`);
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      if (explicit) throw usageError(`profile ${file} does not exist`);
      return null;
    }
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw usageError(`profile ${file} is not JSON: ${(error as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw usageError(`profile ${file} is not a JSON object`);
  const profile = parsed as ProfileFile;
  // A relative caFile is relative to the profile, not to wherever the CLI was started.
  const resolveCa = <T extends { caFile?: string }>(p: T): T => (p.caFile && !path.isAbsolute(p.caFile) ? { ...p, caFile: path.resolve(path.dirname(file), p.caFile) } : p);
  return {
    ...resolveCa(profile),
    ...(profile.regions ? { regions: Object.fromEntries(Object.entries(profile.regions).map(([name, r]) => [name, resolveCa(r)])) } : {}),
  };
}

/** Writes a profile readable by its owner only (it holds credentials). */
export function writeProfile(file: string, profile: ProfileFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(profile, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}
