import { Module } from '@nestjs/common';
import { ChangeFeeder } from './change-feeder';

/** The users' change feed: META's object-key events republished as change records on CHANGES. */
@Module({
  providers: [ChangeFeeder],
})
export class ChangeFeedModule {}
