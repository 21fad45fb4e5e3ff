import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import type { CallToolResult, Tool as McpTool } from "@modelcontextprotocol/sdk/types.js";
import { decodeBase64 } from "../lib/base64.ts";
import { formatCallResult, safeToolName, toOpenAITool } from "../lib/mcp_convert.ts";
import { ToolOutput } from "../lib/tools/registry.ts";
import { TINY_PNG } from "./fixtures/mcp_test_server.ts";

// ---------------------------------------------------------------------------
// safeToolName

const LONG_VALID = "a".repeat(64);
const LONG_DOTTED = "x.".repeat(40); // 80 characters

for (
  const [what, name, taken, expected] of [
    ["keeps a valid name", "get_weather", [], "get_weather"],
    [
      "keeps a valid name even when it is taken (the merge settles duplicates)",
      "echo",
      ["echo"],
      "echo",
    ],
    ["keeps hyphens", "get-sum", [], "get-sum"],
    ["keeps a valid name of exactly 64 characters", LONG_VALID, [], LONG_VALID],
    ["replaces dots", "dotted.name", [], "dotted_name"],
    ["replaces slashes and spaces", "files/read all", [], "files_read_all"],
    ["replaces non-ASCII letters", "wetter_für", [], "wetter_f_r"],
    ["names an empty name 'tool'", "", [], "tool"],
    ["cuts a long rewritten name to 64 characters", LONG_DOTTED, [], "x_".repeat(32)],
    ["cuts a valid but over-long name to 64 characters", "b".repeat(70), [], "b".repeat(64)],
    [
      "gives a rewritten name that is taken a suffix",
      "dotted.name",
      ["dotted_name"],
      "dotted_name_2",
    ],
    [
      "counts the suffix up past taken names",
      "dotted.name",
      ["dotted_name", "dotted_name_2", "dotted_name_3"],
      "dotted_name_4",
    ],
    [
      "keeps a suffixed long name within 64 characters",
      LONG_DOTTED,
      ["x_".repeat(32)],
      "x_".repeat(31) + "_2",
    ],
  ] as const
) {
  Deno.test(`safeToolName ${what}`, () => {
    const out = safeToolName(name, new Set(taken));
    strictEqual(out, expected);
    match(out, /^[A-Za-z0-9_-]{1,64}$/);
  });
}

// ---------------------------------------------------------------------------
// toOpenAITool

Deno.test("toOpenAITool maps name, description and input schema to a function tool", () => {
  const schema = {
    type: "object" as const,
    properties: { city: { type: "string" } },
    required: ["city"],
  };
  deepStrictEqual(
    toOpenAITool({ name: "weather", description: "Weather now", inputSchema: schema }),
    {
      type: "function",
      function: { name: "weather", description: "Weather now", parameters: schema },
    },
  );
});

Deno.test("toOpenAITool gives an empty description when the tool has none", () => {
  const def = toOpenAITool({ name: "t", inputSchema: { type: "object" } });
  strictEqual(def.function.description, "");
});

Deno.test("toOpenAITool gives the closed empty-object schema when there is no inputSchema", () => {
  const def = toOpenAITool({ name: "t" } as McpTool);
  deepStrictEqual(def.function.parameters, {
    type: "object",
    properties: {},
    additionalProperties: false,
  });
});

Deno.test("toOpenAITool uses the exposed (provider-safe) name when given", () => {
  const def = toOpenAITool({ name: "dotted.name", inputSchema: { type: "object" } }, "dotted_name");
  strictEqual(def.function.name, "dotted_name");
});

// ---------------------------------------------------------------------------
// formatCallResult

const PNG_BYTES = decodeBase64(TINY_PNG);
const JPEG_B64 = "/9j/4AAQSkZJRg==";

const FORMAT_CASES: Array<{
  what: string;
  result: CallToolResult;
  content: unknown;
  images?: Array<{ mimetype: string; name: string; bytes?: Uint8Array }>;
}> = [
  {
    what: "joins text blocks with a newline into {result}",
    result: { content: [{ type: "text", text: "one" }, { type: "text", text: "two" }] },
    content: { result: "one\ntwo" },
  },
  {
    what: "gives an empty result for no content",
    result: { content: [] },
    content: { result: "" },
  },
  {
    what: "prefers structuredContent over the text",
    result: { content: [{ type: "text", text: "5" }], structuredContent: { sum: 5 } },
    content: { sum: 5 },
  },
  {
    what: "turns isError into a tool execution error with the text",
    result: { content: [{ type: "text", text: "no such city" }], isError: true },
    content: { error: "Tool execution error for weather: no such city" },
  },
  {
    what: "turns isError without text into a tool execution error",
    result: { content: [], isError: true },
    content: { error: "Tool execution error for weather: the tool failed" },
  },
  {
    what: "turns an image block into image bytes and mentions the posted image",
    result: {
      content: [
        { type: "text", text: "a cat" },
        { type: "image", data: TINY_PNG, mimeType: "image/png" },
      ],
    },
    content: { result: "a cat", images: "1 image(s) posted to the chat" },
    images: [{ mimetype: "image/png", name: "weather_t1-1.png", bytes: PNG_BYTES }],
  },
  {
    what: "numbers several images and names a JPEG .jpg",
    result: {
      content: [
        { type: "image", data: TINY_PNG, mimeType: "image/png" },
        { type: "image", data: JPEG_B64, mimeType: "image/jpeg" },
      ],
    },
    content: { result: "", images: "2 image(s) posted to the chat" },
    images: [
      { mimetype: "image/png", name: "weather_t1-1.png" },
      { mimetype: "image/jpeg", name: "weather_t1-2.jpg" },
    ],
  },
  {
    what: "keeps structuredContent and mentions images beside it",
    result: {
      content: [{ type: "image", data: TINY_PNG, mimeType: "image/png" }],
      structuredContent: { ok: true },
    },
    content: { ok: true, images: "1 image(s) posted to the chat" },
    images: [{ mimetype: "image/png", name: "weather_t1-1.png" }],
  },
  {
    what: "turns an image with bad base64 into a text note",
    result: { content: [{ type: "image", data: "not*base64!", mimeType: "image/png" }] },
    content: { result: "[an image that could not be decoded]" },
  },
  {
    what: "uses the text of an embedded text resource",
    result: {
      content: [{
        type: "resource",
        resource: { uri: "file:///a.txt", text: "file body", mimeType: "text/plain" },
      }],
    },
    content: { result: "file body" },
  },
  {
    what: "names an embedded binary resource by its URI",
    result: {
      content: [{ type: "resource", resource: { uri: "file:///a.bin", blob: "AAEC" } }],
    },
    content: { result: "[resource file:///a.bin]" },
  },
  {
    what: "shows a resource link as a Markdown link",
    result: {
      content: [{ type: "resource_link", name: "report", uri: "https://example.org/r" }],
    },
    content: { result: "[report](https://example.org/r)" },
  },
  {
    what: "notes an audio block without its data",
    result: { content: [{ type: "audio", data: "AAAA", mimeType: "audio/wav" }] },
    content: { result: "[audio (audio/wav) not shown]" },
  },
];

for (const c of FORMAT_CASES) {
  Deno.test(`formatCallResult ${c.what}`, () => {
    const out = formatCallResult("weather", c.result, "t1");
    ok(out instanceof ToolOutput);
    deepStrictEqual(JSON.parse(out.content), c.content);
    deepStrictEqual(
      out.images.map((i) => ({ mimetype: i.mimetype, name: i.name })),
      (c.images ?? []).map((i) => ({ mimetype: i.mimetype, name: i.name })),
    );
    for (const [i, expected] of (c.images ?? []).entries()) {
      if (expected.bytes) deepStrictEqual(out.images[i].bytes, expected.bytes);
      ok(out.images[i].bytes.length > 0);
    }
  });
}

Deno.test("formatCallResult gives images of different calls different names", () => {
  const result = { content: [{ type: "image" as const, data: TINY_PNG, mimeType: "image/png" }] };
  const a = formatCallResult("pic", result).images[0].name;
  const b = formatCallResult("pic", result).images[0].name;
  ok(a !== b, `${a} vs ${b}`);
  match(a, /^pic_[0-9a-f]{8}-1\.png$/);
});
