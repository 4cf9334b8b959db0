import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Access } from '@cairn/service-kit';
import { StorageCapacityService, type CapacityReport } from './storage-capacity.service';

/** GET /admin/capacity: bytes per storage class, raw bytes per node, erasure coding's saving. */
@ApiTags('admin')
@ApiBearerAuth()
@Access('operator')
@Controller('admin')
export class CapacityAdminController {
  constructor(private readonly capacity: StorageCapacityService) {}

  @Get('capacity')
  @ApiOperation({ summary: 'Bytes per storage class (logical, on the nodes, against three copies), chunk bytes on each node, and the saving of erasure coding' })
  capacityReport(): Promise<CapacityReport> {
    return this.capacity.report();
  }
}
