ALTER TABLE "webhook_events" DROP COLUMN "event_hash";--> statement-breakpoint
ALTER TABLE "email_outbox" DROP COLUMN "metadata";