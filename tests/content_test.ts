import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  type Content,
  dataUrl,
  imagesOf,
  isTextFile,
  limitImages,
  type MediaRef,
  resolveImages,
  textOf,
  userContent,
} from "../lib/content.ts";
import { toChat } from "../lib/llm.ts";

const cat: MediaRef = { url: "mxc://hs/cat", name: "cat.png", mimetype: "image/png" };
const dog: MediaRef = { url: "mxc://hs/dog", name: "dog.jpg", mimetype: "image/jpeg" };
const owl: MediaRef = { url: "mxc://hs/owl", name: "owl.webp", mimetype: "image/webp" };

const building: Array<[string, Parameters<typeof userContent>, Content]> = [
  ["text alone stays a plain string (stored as before)", ["hello"], "hello"],
  ["empty lists are text alone", ["hi", [], []], "hi"],
  ["an image after the text", ["what is this?", [], [cat]], [
    { type: "text", text: "what is this?" },
    { type: "image", image: cat },
  ]],
  ["a file as a text part with its name", ["summarise", [{ name: "a.txt", text: "abc" }]], [
    { type: "text", text: "summarise" },
    { type: "text", text: "File a.txt:\nabc" },
  ]],
  ["no text part for an empty text", ["", [], [cat, dog]], [
    { type: "image", image: cat },
    { type: "image", image: dog },
  ]],
  ["files before images", ["x", [{ name: "b.md", text: "# b" }], [cat]], [
    { type: "text", text: "x" },
    { type: "text", text: "File b.md:\n# b" },
    { type: "image", image: cat },
  ]],
];

for (const [name, args, expected] of building) {
  Deno.test(`userContent: ${name}`, () => {
    deepStrictEqual(userContent(...args), expected);
  });
}

Deno.test("textOf: a string is itself; parts are joined, images by name", () => {
  strictEqual(textOf("plain"), "plain");
  strictEqual(
    textOf([{ type: "text", text: "a" }, { type: "image", image: cat }]),
    "a\n\n[image: cat.png]",
  );
  deepStrictEqual(imagesOf([{ type: "text", text: "a" }, { type: "image", image: cat }]), [cat]);
  deepStrictEqual(imagesOf("text"), []);
});

function user(content: Content) {
  return { role: "user" as const, content };
}

Deno.test("limitImages keeps the most recent images and names the older ones", () => {
  const messages = [
    { role: "system" as const, content: "sys" },
    user([{ type: "text", text: "1" }, { type: "image", image: cat }]),
    { role: "assistant" as const, content: "ok" },
    user([{ type: "image", image: dog }, { type: "image", image: owl }]),
  ];
  deepStrictEqual(limitImages(messages, 2), [
    messages[0],
    user([{ type: "text", text: "1" }, { type: "text", text: "[image: cat.png]" }]),
    messages[2],
    messages[3],
  ]);
  deepStrictEqual(limitImages(messages, 1)[3].content, [
    { type: "text", text: "[image: dog.jpg]" },
    { type: "image", image: owl },
  ]);
  deepStrictEqual(
    limitImages(messages, 0).flatMap((m) => imagesOf(m.content)),
    [],
    "a model without vision gets no image",
  );
  deepStrictEqual(limitImages(messages, 9), messages);
  // The input is left alone.
  deepStrictEqual(imagesOf(messages[3].content), [dog, owl]);
});

Deno.test("resolveImages turns references into data URLs; a failed one into its name", async () => {
  const bytes = new Uint8Array([1, 2, 3]);
  const failures: string[] = [];
  const out = await resolveImages(
    [
      user([{ type: "text", text: "t" }, { type: "image", image: cat }, {
        type: "image",
        image: dog,
      }]),
      { role: "assistant" as const, content: "a" },
    ],
    (ref) =>
      ref === cat
        ? Promise.resolve({ mimetype: "image/png", bytes })
        : Promise.reject(new Error("gone")),
    (ref, error) => failures.push(`${ref.name}: ${error.message}`),
  );
  deepStrictEqual(out[0].content, [
    { type: "text", text: "t" },
    { type: "image_url", image_url: { url: "data:image/png;base64,AQID" } },
    { type: "text", text: "[image: dog.jpg]" },
  ]);
  strictEqual(out[1].content, "a");
  deepStrictEqual(failures, ["dog.jpg: gone"]);
  strictEqual(dataUrl("image/gif", new Uint8Array([255])), "data:image/gif;base64,/w==");
});

Deno.test("toChat: user parts as OpenAI parts, other roles as text, references by name", () => {
  deepStrictEqual(
    toChat([
      { role: "system", content: "s" },
      user([{ type: "text", text: "q" }, { type: "image_url", image_url: { url: "data:x" } }, {
        type: "image",
        image: cat,
      }]),
      { role: "assistant", content: [{ type: "text", text: "a" }] },
      user("plain"),
    ]),
    [
      { role: "system", content: "s" },
      {
        role: "user",
        content: [
          { type: "text", text: "q" },
          { type: "image_url", image_url: { url: "data:x" } },
          { type: "text", text: "[image: cat.png]" },
        ],
      },
      { role: "assistant", content: "a" },
      { role: "user", content: "plain" },
    ],
  );
});

const textFiles: Array<[string, string, boolean]> = [
  ["text/plain", "a.txt", true],
  ["text/markdown; charset=utf-8", "a.md", true],
  ["application/json", "data.json", true],
  ["application/vnd.api+json", "x", true],
  ["application/octet-stream", "main.py", true],
  ["", "lib/app.ts", true],
  ["", "Dockerfile", true],
  ["", "notes", false],
  ["application/pdf", "paper.pdf", false],
  ["application/zip", "a.txt", false],
  ["image/png", "cat.png", false],
  ["application/octet-stream", "blob.bin", false],
];

for (const [mime, name, expected] of textFiles) {
  Deno.test(`isTextFile(${JSON.stringify(mime)}, ${name}) is ${expected}`, () => {
    strictEqual(isTextFile(mime, name), expected);
  });
}
