import { Injectable } from '@nestjs/common';
import { PostgresConnection } from '@cairn/service-kit';
import type { DataSource } from 'typeorm';
import { MetadataQueryAdapter } from './metadata-query.adapter';

/** The namespace's read model on the service-kit Postgres connection (migrations ran on connect). */
@Injectable()
export class MetadataReadModel {
  private adapter: MetadataQueryAdapter | undefined;

  constructor(private readonly postgres: PostgresConnection) {}

  dataSource(): Promise<DataSource> {
    return this.postgres.ready();
  }

  async queries(): Promise<MetadataQueryAdapter> {
    this.adapter ??= new MetadataQueryAdapter(await this.postgres.ready());
    return this.adapter;
  }
}
