import { Module } from '@nestjs/common';
import { ChangeFeedConsumer } from './change-feed.consumer';
import { ChangeFeeder } from './change-feeder';

/** The users' change feed: META's object-key events republished as change records on CHANGES. */
@Module({
  controllers: [ChangeFeedConsumer],
  providers: [ChangeFeeder],
})
export class ChangeFeedModule {}
