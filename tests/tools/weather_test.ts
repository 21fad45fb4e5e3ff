import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { builtinTools } from "../../lib/tools/builtins.ts";
import { ToolRegistry } from "../../lib/tools/registry.ts";
import {
  describeWeatherCode,
  getWeather,
  makeGetWeather,
  unitSystem,
} from "../../lib/tools/weather.ts";

// --- A local Open-Meteo ------------------------------------------------------

/** One request the fake API received. */
interface Seen {
  path: string;
  params: Record<string, string>;
}

type Reply = Response | "hang";
type Handler = (path: string, params: URLSearchParams) => Reply | Promise<Reply>;

/** Geocoding answer for Berlin, as Open-Meteo sends it. */
const BERLIN = {
  results: [{
    id: 2950159,
    name: "Berlin",
    latitude: 52.52437,
    longitude: 13.41053,
    elevation: 74,
    feature_code: "PPLC",
    country_code: "DE",
    admin1_id: 2950157,
    timezone: "Europe/Berlin",
    population: 3426354,
    country_id: 2921044,
    country: "Germany",
    admin1: "Land Berlin",
  }],
  generationtime_ms: 0.6970167,
};

/** Forecast answer with current weather, as Open-Meteo sends it. */
function forecastBody(params: URLSearchParams, current: Record<string, unknown> = {}) {
  const imperial = params.get("temperature_unit") === "fahrenheit";
  return {
    latitude: 52.52,
    longitude: 13.419998,
    generationtime_ms: 0.05,
    utc_offset_seconds: 0,
    timezone: "GMT",
    timezone_abbreviation: "GMT",
    elevation: 38,
    current_weather_units: {
      time: "iso8601",
      interval: "seconds",
      temperature: imperial ? "°F" : "°C",
      windspeed: imperial ? "mp/h" : "km/h",
      winddirection: "°",
      is_day: "",
      weathercode: "wmo code",
    },
    current_weather: {
      time: "2026-01-15T12:00",
      interval: 900,
      temperature: imperial ? 39.2 : 4,
      windspeed: imperial ? 8.1 : 13,
      winddirection: 250,
      is_day: 1,
      weathercode: 3,
      ...current,
    },
  };
}

/** The default API: Berlin geocodes, the forecast answers. */
const openMeteo: Handler = (path, params) =>
  path === "/geo"
    ? Response.json(params.get("name") === "Berlin" ? BERLIN : { generationtime_ms: 0.3 })
    : Response.json(forecastBody(params));

class FakeApi {
  readonly seen: Seen[] = [];
  readonly #abort = new AbortController();
  readonly #server: Deno.HttpServer<Deno.NetAddr>;

  constructor(handler: Handler) {
    this.#server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: () => {},
      signal: this.#abort.signal,
    }, async (req) => {
      const url = new URL(req.url);
      this.seen.push({ path: url.pathname, params: Object.fromEntries(url.searchParams) });
      const reply = await handler(url.pathname, url.searchParams);
      if (reply !== "hang") return reply;
      // Never answers; held until the server closes (the client gives up on its own).
      await new Promise<void>((resolve) => {
        this.#abort.signal.addEventListener("abort", () => resolve(), { once: true });
      });
      return new Response(null, { status: 599 });
    });
  }

  get endpoints() {
    const base = `http://127.0.0.1:${this.#server.addr.port}`;
    return { geocoding: `${base}/geo`, forecast: `${base}/forecast` };
  }

  async [Symbol.asyncDispose]() {
    this.#abort.abort();
    await this.#server.finished;
  }
}

function run(api: FakeApi, args: Record<string, unknown>, signal = new AbortController().signal) {
  return getWeather.run(args, { signal }, { endpoints: api.endpoints });
}

// --- describeWeatherCode -----------------------------------------------------

const codeCases: Array<[number, string]> = [
  [0, "clear sky"],
  [1, "mainly clear"],
  [2, "partly cloudy"],
  [3, "overcast"],
  [45, "fog"],
  [48, "depositing rime fog"],
  [51, "light drizzle"],
  [53, "moderate drizzle"],
  [55, "dense drizzle"],
  [61, "slight rain"],
  [63, "moderate rain"],
  [65, "heavy rain"],
  [71, "slight snow"],
  [73, "moderate snow"],
  [75, "heavy snow"],
  [80, "rain showers"],
  [81, "heavy rain showers"],
  [82, "violent rain showers"],
  [95, "thunderstorm"],
  [96, "thunderstorm with hail"],
  [99, "severe thunderstorm with hail"],
  // Codes Open-Meteo sends that the reference's table lacks.
  [56, "code 56"],
  [77, "code 77"],
  [86, "code 86"],
  [4, "code 4"],
];

for (const [code, want] of codeCases) {
  Deno.test(`describes WMO weather code ${code} as "${want}"`, () => {
    strictEqual(describeWeatherCode(code), want);
  });
}

// --- unitSystem ----------------------------------------------------------------

const unitCases: Array<[unknown, string, string, string, string]> = [
  [undefined, "celsius", "kmh", "°C", "km/h"],
  ["metric", "celsius", "kmh", "°C", "km/h"],
  ["imperial", "fahrenheit", "mph", "°F", "mph"],
  ["Imperial", "fahrenheit", "mph", "°F", "mph"],
  ["us", "fahrenheit", "mph", "°F", "mph"],
  ["kelvin", "celsius", "kmh", "°C", "km/h"],
];

for (const [units, temp, wind, tempUnit, windUnit] of unitCases) {
  Deno.test(`maps units ${JSON.stringify(units)} to ${temp} and ${wind}`, () => {
    deepStrictEqual(unitSystem(units), {
      temperatureParam: temp,
      windspeedParam: wind,
      temperatureUnit: tempUnit,
      windspeedUnit: windUnit,
    });
  });
}

// --- get_weather against the local API --------------------------------------

Deno.test("get_weather geocodes the city, then reads the current weather in metric", async () => {
  await using api = new FakeApi(openMeteo);
  const result = await run(api, { city: "Berlin", units: "metric" });
  deepStrictEqual(result, {
    location: "Berlin, Germany",
    city: "Berlin",
    country: "Germany",
    latitude: 52.52437,
    longitude: 13.41053,
    temperature: 4,
    temperature_unit: "°C",
    windspeed: 13,
    windspeed_unit: "km/h",
    description: "overcast",
    code: 3,
  });
  deepStrictEqual(api.seen, [
    { path: "/geo", params: { name: "Berlin", count: "1" } },
    {
      path: "/forecast",
      params: {
        latitude: "52.52437",
        longitude: "13.41053",
        current_weather: "true",
        temperature_unit: "celsius",
        windspeed_unit: "kmh",
      },
    },
  ]);
});

Deno.test("get_weather asks for metric units when units are omitted", async () => {
  await using api = new FakeApi(openMeteo);
  const result = await run(api, { city: "Berlin" }) as Record<string, unknown>;
  strictEqual(api.seen[1].params.temperature_unit, "celsius");
  strictEqual(api.seen[1].params.windspeed_unit, "kmh");
  strictEqual(result.temperature_unit, "°C");
  strictEqual(result.windspeed_unit, "km/h");
});

for (const units of ["imperial", "us"]) {
  Deno.test(`get_weather asks for fahrenheit and mph for units "${units}"`, async () => {
    await using api = new FakeApi(openMeteo);
    const result = await run(api, { city: "Berlin", units }) as Record<string, unknown>;
    strictEqual(api.seen[1].params.temperature_unit, "fahrenheit");
    strictEqual(api.seen[1].params.windspeed_unit, "mph");
    strictEqual(result.temperature, 39.2);
    strictEqual(result.temperature_unit, "°F");
    strictEqual(result.windspeed, 8.1);
    strictEqual(result.windspeed_unit, "mph");
  });
}

Deno.test("get_weather sends a city with spaces and accents intact", async () => {
  await using api = new FakeApi(() => Response.json({ generationtime_ms: 0.2 }));
  await run(api, { city: "São Paulo & Co" });
  deepStrictEqual(api.seen[0].params, { name: "São Paulo & Co", count: "1" });
});

Deno.test("get_weather reports a city the geocoder does not know", async () => {
  await using api = new FakeApi(openMeteo);
  deepStrictEqual(await run(api, { city: "Atlantis" }), { error: "City not found: Atlantis" });
  strictEqual(api.seen.length, 1);
});

Deno.test("get_weather reports an empty results list as city not found", async () => {
  await using api = new FakeApi(() => Response.json({ results: [], generationtime_ms: 0.2 }));
  deepStrictEqual(await run(api, { city: "Nowhere" }), { error: "City not found: Nowhere" });
});

Deno.test("get_weather reports a place without coordinates as not geocoded", async () => {
  await using api = new FakeApi(() =>
    Response.json({ results: [{ id: 1, name: "Berlin", country: "Germany", latitude: 52.5 }] })
  );
  deepStrictEqual(await run(api, { city: "Berlin" }), { error: "Failed to geocode: Berlin" });
  strictEqual(api.seen.length, 1);
});

Deno.test("get_weather drops the comma from the location of a place without a country", async () => {
  await using api = new FakeApi((path, params) =>
    path === "/geo"
      ? Response.json({ results: [{ name: "Null Island", latitude: 0, longitude: 0 }] })
      : Response.json(forecastBody(params))
  );
  const result = await run(api, { city: "Null Island" }) as Record<string, unknown>;
  strictEqual(result.location, "Null Island");
  strictEqual(result.country, "");
  strictEqual(api.seen[1].params.latitude, "0");
});

Deno.test("get_weather reports missing current weather values", async () => {
  await using api = new FakeApi((path, params) =>
    path === "/geo" ? Response.json(BERLIN) : Response.json(forecastBody(params, {
      temperature: undefined,
    }))
  );
  deepStrictEqual(await run(api, { city: "Berlin" }), {
    error: "Weather unavailable for Berlin, Germany.",
  });
});

Deno.test("get_weather reports a forecast without current_weather", async () => {
  await using api = new FakeApi((path) =>
    path === "/geo" ? Response.json(BERLIN) : Response.json({ latitude: 52.52, hourly: {} })
  );
  deepStrictEqual(await run(api, { city: "Berlin" }), {
    error: "Weather unavailable for Berlin, Germany.",
  });
});

Deno.test("get_weather reports an unknown weather code by its number", async () => {
  await using api = new FakeApi((path, params) =>
    path === "/geo" ? Response.json(BERLIN) : Response.json(forecastBody(params, {
      weathercode: 77,
    }))
  );
  const result = await run(api, { city: "Berlin" }) as Record<string, unknown>;
  strictEqual(result.description, "code 77");
  strictEqual(result.code, 77);
});

for (const status of [404, 500, 503]) {
  Deno.test(`get_weather reports a geocoding HTTP ${status} as a failed lookup`, async () => {
    await using api = new FakeApi(() => new Response("oops", { status }));
    deepStrictEqual(await run(api, { city: "Berlin" }), {
      error: `Weather lookup failed: HTTP ${status}`,
    });
  });
}

Deno.test("get_weather reports a forecast HTTP 400 as a failed lookup", async () => {
  await using api = new FakeApi((path) =>
    path === "/geo"
      ? Response.json(BERLIN)
      : Response.json({ error: true, reason: "Latitude must be in range" }, { status: 400 })
  );
  deepStrictEqual(await run(api, { city: "Berlin" }), {
    error: "Weather lookup failed: HTTP 400",
  });
});

Deno.test("get_weather reports a malformed geocoding body as an unexpected error", async () => {
  await using api = new FakeApi(() =>
    new Response("<html>gateway</html>", { headers: { "content-type": "text/html" } })
  );
  deepStrictEqual(await run(api, { city: "Berlin" }), {
    error: "Unexpected error during weather lookup: geocoding response is not JSON",
  });
});

Deno.test("get_weather reports a truncated forecast body as an unexpected error", async () => {
  await using api = new FakeApi((path) =>
    path === "/geo" ? Response.json(BERLIN) : new Response('{"current_weather": {"temp')
  );
  deepStrictEqual(await run(api, { city: "Berlin" }), {
    error: "Unexpected error during weather lookup: forecast response is not JSON",
  });
});

Deno.test("get_weather gives up on an API that never answers after its timeout", async () => {
  await using api = new FakeApi(() => "hang");
  const result = await makeGetWeather(300).run(
    { city: "Berlin" },
    { signal: new AbortController().signal },
    { endpoints: api.endpoints },
  );
  deepStrictEqual(result, { error: "Weather lookup failed: timed out after 0 s" });
});

Deno.test("get_weather stops when the call is cancelled", async () => {
  await using api = new FakeApi((path) => path === "/geo" ? Response.json(BERLIN) : "hang");
  const result = await run(api, { city: "Berlin" }, AbortSignal.timeout(200));
  deepStrictEqual(result, { error: "Weather lookup failed: cancelled" });
  strictEqual(api.seen.length, 2);
});

Deno.test("get_weather reports an unreachable API as a failed lookup", async () => {
  const api = new FakeApi(openMeteo);
  const endpoints = api.endpoints;
  await api[Symbol.asyncDispose]();
  const result = await getWeather.run({ city: "Berlin" }, {
    signal: new AbortController().signal,
  }, { endpoints }) as { error: string };
  strictEqual(result.error.startsWith("Weather lookup failed: "), true, result.error);
  strictEqual(result.error.includes("timed out"), false, result.error);
});

for (const city of ["", "   ", undefined, 42]) {
  Deno.test(`get_weather rejects the city ${JSON.stringify(city)} without a request`, async () => {
    await using api = new FakeApi(openMeteo);
    deepStrictEqual(await run(api, { city }), {
      error: "Invalid 'city' argument; expected a non-empty string.",
    });
    strictEqual(api.seen.length, 0);
  });
}

Deno.test("get_weather through the registry gives the model JSON with non-ASCII kept", async () => {
  await using api = new FakeApi(openMeteo);
  const registry = new ToolRegistry(builtinTools({ endpoints: api.endpoints, fetch }));
  const result = await registry.call("get_weather", { city: "Berlin", units: "imperial" });
  strictEqual(result.ok, true);
  strictEqual(
    result.content,
    '{"location":"Berlin, Germany","city":"Berlin","country":"Germany","latitude":52.52437,' +
      '"longitude":13.41053,"temperature":39.2,"temperature_unit":"°F","windspeed":8.1,' +
      '"windspeed_unit":"mph","description":"overcast","code":3}',
  );
});

Deno.test("get_weather through the registry treats a blank units argument as metric", async () => {
  await using api = new FakeApi(openMeteo);
  const registry = new ToolRegistry(builtinTools({ endpoints: api.endpoints }));
  const result = await registry.call("get_weather", { city: "Berlin", units: "  " });
  strictEqual(JSON.parse(result.content).temperature_unit, "°C");
  strictEqual(api.seen[1].params.temperature_unit, "celsius");
});
