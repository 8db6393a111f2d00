// Prisma CLI configuration (Prisma 7). Only `prisma generate` runs in this project's scripts: migrations
// are applied by `dealreg migrate` (src/data/migrate.ts), which keeps Prisma's folder layout and history table.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres' },
});
