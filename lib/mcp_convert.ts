/**
 * MCP tools and results in the shapes the model sees: a provider-safe name,
 * the OpenAI function tool, and the result string of a call (images for the
 * chat, errors as `{"error": ...}`). Pure.
 *
 * @module
 */
import type { CallToolResult, Tool as McpTool } from "@modelcontextprotocol/sdk/types.js";
import { decodeBase64 } from "./base64.ts";
import { extensionOf } from "./image_type.ts";
import type { ToolDefinition } from "./providers.ts";
import { errorResult, type ToolImage, ToolOutput } from "./tools/registry.ts";

const OPENAI_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * A name the providers accept (`^[A-Za-z0-9_-]{1,64}$`) for an MCP tool name.
 * Valid names are kept as they are (duplicates are settled by the merge:
 * the first server wins); a rewritten name avoids every name in `taken`.
 */
export function safeToolName(name: string, taken: ReadonlySet<string>): string {
  if (OPENAI_NAME.test(name)) return name;
  const base = (name.replace(/[^A-Za-z0-9_-]/g, "_") || "tool").slice(0, 64);
  if (!taken.has(base)) return base;
  for (let i = 2;; i++) {
    const candidate = `${base.slice(0, 64 - String(i).length - 1)}_${i}`;
    if (!taken.has(candidate)) return candidate;
  }
}

const EMPTY_SCHEMA = { type: "object", properties: {}, additionalProperties: false };

/** The OpenAI function tool for an MCP tool (reference §5.3). */
export function toOpenAITool(tool: McpTool, exposedName = tool.name): ToolDefinition {
  return {
    type: "function",
    function: {
      name: exposedName,
      description: tool.description ?? "",
      parameters: (tool.inputSchema ?? EMPTY_SCHEMA) as Record<string, unknown>,
    },
  };
}

/**
 * The model-facing result of a call: structured content if any, else the
 * text blocks joined; image blocks become images for the chat;
 * `isError` becomes `{"error": "Tool execution error for <name>: ..."}`.
 */
export function formatCallResult(
  toolName: string,
  result: CallToolResult,
  /** Makes image names unique across calls (default: a random tag). */
  tag: string = crypto.randomUUID().slice(0, 8),
): ToolOutput {
  const texts: string[] = [];
  const images: ToolImage[] = [];
  for (const block of result.content ?? []) {
    switch (block.type) {
      case "text":
        texts.push(block.text);
        break;
      case "image": {
        try {
          const bytes = decodeBase64(block.data);
          const name = `${toolName}_${tag}-${images.length + 1}.${extensionOf(block.mimeType)}`;
          images.push({ bytes, mimetype: block.mimeType, name });
        } catch {
          texts.push("[an image that could not be decoded]");
        }
        break;
      }
      case "audio":
        texts.push(`[audio (${block.mimeType}) not shown]`);
        break;
      case "resource":
        texts.push(
          "text" in block.resource ? block.resource.text : `[resource ${block.resource.uri}]`,
        );
        break;
      case "resource_link":
        texts.push(`[${block.name}](${block.uri})`);
        break;
    }
  }
  if (result.isError) {
    return new ToolOutput(
      errorResult(`Tool execution error for ${toolName}: ${texts.join("\n") || "the tool failed"}`),
    );
  }
  const value: Record<string, unknown> = result.structuredContent !== undefined
    ? { ...result.structuredContent }
    : { result: texts.join("\n") };
  if (images.length) value.images = `${images.length} image(s) posted to the chat`;
  return new ToolOutput(JSON.stringify(value), images);
}
