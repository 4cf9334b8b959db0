import { IsIn, IsOptional } from 'class-validator';

export class AlertsQueryDto {
  /** Only alerts in this state; all (firing, pending, recently resolved) when absent. */
  @IsOptional()
  @IsIn(['firing', 'pending', 'resolved'])
  state?: 'firing' | 'pending' | 'resolved';
}
