CREATE TABLE "organization_invitations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" text NOT NULL,
	"email" text NOT NULL,
	"role" text NOT NULL,
	"token_hash" text NOT NULL,
	"invited_by_user_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "organization_invitations_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "organization_members" (
	"organization_id" text NOT NULL,
	"user_id" text NOT NULL,
	"role" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "organization_members_organization_id_user_id_pk" PRIMARY KEY("organization_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "organizations" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"personal_user_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "organizations_personal_user_id_unique" UNIQUE("personal_user_id")
);
--> statement-breakpoint
ALTER TABLE "organization_invitations" ADD CONSTRAINT "organization_invitations_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "organization_invitations" ADD CONSTRAINT "organization_invitations_invited_by_user_id_users_id_fk" FOREIGN KEY ("invited_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "organization_members" ADD CONSTRAINT "organization_members_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "organization_members" ADD CONSTRAINT "organization_members_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "organizations" ADD CONSTRAINT "organizations_personal_user_id_users_id_fk" FOREIGN KEY ("personal_user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
CREATE UNIQUE INDEX "organization_invitations_org_email_key" ON "organization_invitations" USING btree ("organization_id","email");
--> statement-breakpoint
CREATE INDEX "organization_invitations_expires_at_idx" ON "organization_invitations" USING btree ("expires_at");
--> statement-breakpoint
CREATE INDEX "organization_members_user_id_idx" ON "organization_members" USING btree ("user_id");
--> statement-breakpoint
CREATE UNIQUE INDEX "organization_members_one_owner_idx" ON "organization_members" USING btree ("organization_id") WHERE "organization_members"."role" = 'owner';
--> statement-breakpoint
-- Every existing user gets their personal workspace (decision 24), owned by them, named after them.
INSERT INTO "organizations" ("id", "name", "personal_user_id", "created_at", "updated_at")
SELECT gen_random_uuid()::text, coalesce(nullif(btrim("name"), ''), 'Personal'), "id", "created_at", now() FROM "users";--> statement-breakpoint
INSERT INTO "organization_members" ("organization_id", "user_id", "role", "created_at")
SELECT "id", "personal_user_id", 'owner', "created_at" FROM "organizations" WHERE "personal_user_id" IS NOT NULL;--> statement-breakpoint
-- Sessions start in the personal workspace (null).
ALTER TABLE "sessions" ADD COLUMN "active_organization_id" text;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_active_organization_id_organizations_id_fk" FOREIGN KEY ("active_organization_id") REFERENCES "public"."organizations"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
-- AI usage so far counts against the personal workspace of the user who made it.
ALTER TABLE "ai_requests" ADD COLUMN "organization_id" text;--> statement-breakpoint
UPDATE "ai_requests" SET "organization_id" = "organizations"."id" FROM "organizations" WHERE "organizations"."personal_user_id" = "ai_requests"."user_id";--> statement-breakpoint
ALTER TABLE "ai_requests" ALTER COLUMN "organization_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "ai_requests" ADD CONSTRAINT "ai_requests_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ai_requests_organization_created_idx" ON "ai_requests" USING btree ("organization_id","created_at");--> statement-breakpoint
-- Each user's subscription row (Stripe customer and all) moves to their personal workspace; the
-- row is keyed by the organization from now on (decision 25).
ALTER TABLE "subscriptions" ADD COLUMN "organization_id" text;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "quantity" integer;--> statement-breakpoint
UPDATE "subscriptions" SET "organization_id" = "organizations"."id" FROM "organizations" WHERE "organizations"."personal_user_id" = "subscriptions"."user_id";--> statement-breakpoint
ALTER TABLE "subscriptions" ALTER COLUMN "organization_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "subscriptions" DROP CONSTRAINT "subscriptions_user_id_users_id_fk";--> statement-breakpoint
ALTER TABLE "subscriptions" DROP CONSTRAINT "subscriptions_pkey";--> statement-breakpoint
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_pkey" PRIMARY KEY ("organization_id");--> statement-breakpoint
ALTER TABLE "subscriptions" DROP COLUMN "user_id";--> statement-breakpoint
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;
