import { JobTypeDescriptor } from "@jobs/core";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { problemResponses } from "../http/errors.ts";
import type { JobTypes } from "../ports.ts";

const JobTypeList = Type.Object({ items: Type.Array(JobTypeDescriptor) });

/** `GET /job-types`: what the runners can run now, each with the JSON Schema of its params. */
export const jobTypeRoutes: FastifyPluginAsyncTypebox<{ types: JobTypes }> = async (app, { types }) => {
  app.get(
    "/job-types",
    { schema: { summary: "List job types", response: { 200: JobTypeList, ...problemResponses(401, 500) } } },
    async () => ({ items: types.list().map(({ name, description, params }) => ({ name, description, params })) }),
  );
};
