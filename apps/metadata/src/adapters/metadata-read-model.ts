import { Injectable } from '@nestjs/common';
import { PostgresConnection } from '@cairn/service-kit';
import type { DataSource } from 'typeorm';

/** An aggregate's queries (BucketQueries, ObjectKeyQueries, …): plain SQL over one data source. */
export type ReadModelQueries<Q> = new (dataSource: DataSource) => Q;

/** The namespace's read model on the service-kit Postgres connection (migrations ran on connect). */
@Injectable()
export class MetadataReadModel {
  private readonly made = new Map<ReadModelQueries<unknown>, unknown>();

  constructor(private readonly postgres: PostgresConnection) {}

  dataSource(): Promise<DataSource> {
    return this.postgres.ready();
  }

  /** The one instance of these queries over the read model, made on first use. */
  async queries<Q>(kind: ReadModelQueries<Q>): Promise<Q> {
    const dataSource = await this.postgres.ready();
    let queries = this.made.get(kind) as Q | undefined;
    if (queries === undefined) {
      queries = new kind(dataSource);
      this.made.set(kind, queries);
    }
    return queries;
  }
}
