import { BaseServiceConfig, POSTGRES_TLS_MODES, type PostgresTls, type PostgresTlsMode } from '@cairn/service-kit';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsString, Matches } from 'class-validator';

export class MetadataConfig extends BaseServiceConfig {
  @IsString()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'must be a postgres:// URL' })
  CAIRN_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

  /**
   * TLS to Postgres: `disable`, `require` (encrypted, certificate unchecked) or `verify-full`
   * (certificate and host name checked against CAIRN_DATABASE_TLS_CA_FILE or the system CAs).
   * The password goes in CAIRN_DATABASE_URL (postgres://user:password@host/db).
   */
  @IsIn(POSTGRES_TLS_MODES)
  CAIRN_DATABASE_TLS: PostgresTlsMode = 'disable';

  /** PEM file of the CA that signed the Postgres server's certificate (with CAIRN_DATABASE_TLS=verify-full). */
  @IsOptional()
  @IsString()
  CAIRN_DATABASE_TLS_CA_FILE?: string;

  /** The root access key, created on first start when no key by that id exists. */
  @IsOptional()
  @Matches(/^[A-Z0-9]{16,128}$/, { message: 'must be 16-128 uppercase letters or digits' })
  CAIRN_ROOT_ACCESS_KEY?: string;

  @IsOptional()
  @IsString()
  @Matches(/^\S{20,128}$/, { message: 'must be 20-128 characters without spaces' })
  CAIRN_ROOT_SECRET_KEY?: string;

  /**
   * The region's keyring, the same file as the gateways' (docs/encryption.md): access-key secrets
   * are sealed under its master key in events and in access_keys. Empty: they are stored as sent
   * (a warning at start).
   */
  @IsString()
  CAIRN_MASTER_KEY_FILE = '';

  /** Create the keyring with a first master key when the file is missing (development only). */
  @Transform(({ value }) => (value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value))
  @IsBoolean({ message: 'must be true or false' })
  CAIRN_MASTER_KEY_CREATE = false;
}

/** The Postgres TLS settings of a metadata config, as PostgresConnection takes them. */
export function databaseTlsOf(config: MetadataConfig): PostgresTls {
  return { mode: config.CAIRN_DATABASE_TLS, caFile: config.CAIRN_DATABASE_TLS_CA_FILE };
}
