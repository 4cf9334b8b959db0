import { CreateMetadataTables1763780000000 } from './1763780000000-create-metadata-tables.migration';

/** Every metadata migration, oldest first. */
export const METADATA_MIGRATIONS = [CreateMetadataTables1763780000000] as const;
