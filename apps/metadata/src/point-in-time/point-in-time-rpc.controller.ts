import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { metadataPattern, MetadataRpc, type HistoryHeadFromEventsRequest, type HistoryHeadRequest, type HistoryListFromEventsRequest, type HistoryListRequest, type ImportEventsRequest, type RestorePlanFromEventsRequest, type RestorePlanRequest } from '@cairn/protocol';
import { body } from '../shared/rpc-request';
import { EventImportService } from './event-import.service';
import { PointInTimeService } from './point-in-time.service';

/** The past over NATS (point-in-time.contract.ts): listings and HEAD as of a moment, restore plans. */
@Controller()
export class PointInTimeRpcController {
  constructor(
    private readonly pointInTime: PointInTimeService,
    private readonly imports: EventImportService,
  ) {}

  @MessagePattern(metadataPattern(MetadataRpc.historyList))
  list(@Payload() r: HistoryListRequest) {
    return this.pointInTime.list(body(r));
  }

  @MessagePattern(metadataPattern(MetadataRpc.historyHead))
  head(@Payload() r: HistoryHeadRequest) {
    return this.pointInTime.head(body(r));
  }

  @MessagePattern(metadataPattern(MetadataRpc.restorePlan))
  restorePlan(@Payload() r: RestorePlanRequest) {
    return this.pointInTime.restorePlan(body(r));
  }

  @MessagePattern(metadataPattern(MetadataRpc.restorePlanFromEvents))
  restorePlanFromEvents(@Payload() r: RestorePlanFromEventsRequest) {
    return this.pointInTime.restorePlanFromEvents(body(r));
  }

  @MessagePattern(metadataPattern(MetadataRpc.historyListFromEvents))
  listFromEvents(@Payload() r: HistoryListFromEventsRequest) {
    return this.pointInTime.listFromEvents(body(r));
  }

  @MessagePattern(metadataPattern(MetadataRpc.historyHeadFromEvents))
  headFromEvents(@Payload() r: HistoryHeadFromEventsRequest) {
    return this.pointInTime.headFromEvents(body(r));
  }

  @MessagePattern(metadataPattern(MetadataRpc.importEvents))
  importEvents(@Payload() r: ImportEventsRequest) {
    return this.imports.import(body(r));
  }
}
