/**
 * `get_weather`: the current weather of a city from Open-Meteo. The city is
 * geocoded first, then the forecast's current conditions are read (reference
 * §5.1). Units are metric unless the model asks for imperial (decision 19).
 *
 * @module
 */
import { HttpError, request } from "./http.ts";
import { type BuiltinImplementation, type BuiltinOptions, endpoint } from "./options.ts";
import type { ToolCallOptions } from "./registry.ts";
import { isObject } from "../json.ts";

/** Each Open-Meteo request's timeout, as in the reference. */
export const WEATHER_TIMEOUT_MS = 20_000;

/** WMO weather interpretation codes, as the reference describes them. */
const WMO_CODES: ReadonlyMap<number, string> = new Map([
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
]);

/** The words for a WMO weather code; unknown codes read `code <n>`. */
export function describeWeatherCode(code: number): string {
  return WMO_CODES.get(code) ?? `code ${code}`;
}

/** The query values and labels of one unit system. */
export interface UnitSystem {
  temperatureParam: "celsius" | "fahrenheit";
  windspeedParam: "kmh" | "mph";
  temperatureUnit: "°C" | "°F";
  windspeedUnit: "km/h" | "mph";
}

const METRIC: UnitSystem = {
  temperatureParam: "celsius",
  windspeedParam: "kmh",
  temperatureUnit: "°C",
  windspeedUnit: "km/h",
};

const IMPERIAL: UnitSystem = {
  temperatureParam: "fahrenheit",
  windspeedParam: "mph",
  temperatureUnit: "°F",
  windspeedUnit: "mph",
};

/** `imperial` or `us` (any case) → imperial; anything else, or nothing, → metric. */
export function unitSystem(units: unknown): UnitSystem {
  const u = typeof units === "string" ? units.trim().toLowerCase() : "";
  return u === "imperial" || u === "us" ? IMPERIAL : METRIC;
}

/** A non-2xx answer; reported like a transport failure. */
class StatusError extends Error {}

function isNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

/** GETs `url` and parses the JSON body; throws on non-2xx and non-JSON bodies. */
async function getJson(
  what: string,
  url: string,
  call: ToolCallOptions,
  options: BuiltinOptions,
  timeoutMs: number,
): Promise<unknown> {
  const response = await request(url, { timeoutMs, signal: call.signal, fetch: options.fetch });
  if (!response.ok) throw new StatusError(`HTTP ${response.status}`);
  if (response.json === undefined) throw new Error(`${what} response is not JSON`);
  return response.json;
}

async function lookup(
  city: string,
  units: UnitSystem,
  call: ToolCallOptions,
  options: BuiltinOptions,
  timeoutMs: number,
): Promise<unknown> {
  const geocodeUrl = `${endpoint(options, "geocoding")}?${new URLSearchParams({
    name: city,
    count: "1",
  })}`;
  const geocoded = await getJson("geocoding", geocodeUrl, call, options, timeoutMs);
  const results = isObject(geocoded) ? geocoded.results : undefined;
  if (!Array.isArray(results) || results.length === 0) return { error: `City not found: ${city}` };
  const place = isObject(results[0]) ? results[0] : {};
  const { latitude, longitude } = place;
  if (!isNumber(latitude) || !isNumber(longitude)) return { error: `Failed to geocode: ${city}` };
  const name = typeof place.name === "string" && place.name ? place.name : city;
  const country = typeof place.country === "string" ? place.country : "";
  const location = country ? `${name}, ${country}` : name;

  const forecastUrl = `${endpoint(options, "forecast")}?${new URLSearchParams({
    latitude: String(latitude),
    longitude: String(longitude),
    current_weather: "true",
    temperature_unit: units.temperatureParam,
    windspeed_unit: units.windspeedParam,
  })}`;
  const forecast = await getJson("forecast", forecastUrl, call, options, timeoutMs);
  const current = isObject(forecast) ? forecast.current_weather : undefined;
  const { temperature, windspeed, weathercode } = isObject(current) ? current : {};
  if (!isNumber(temperature) || !isNumber(windspeed) || !isNumber(weathercode)) {
    return { error: `Weather unavailable for ${location}.` };
  }
  return {
    location,
    city: name,
    country,
    latitude,
    longitude,
    temperature,
    temperature_unit: units.temperatureUnit,
    windspeed,
    windspeed_unit: units.windspeedUnit,
    description: describeWeatherCode(weathercode),
    code: weathercode,
  };
}

/** `get_weather` with each request's timeout set (tests use short ones). */
export function makeGetWeather(timeoutMs = WEATHER_TIMEOUT_MS): BuiltinImplementation {
  return {
    async run(args, call, options) {
      const city = typeof args.city === "string" ? args.city.trim() : "";
      if (!city) return { error: "Invalid 'city' argument; expected a non-empty string." };
      try {
        return await lookup(city, unitSystem(args.units), call, options, timeoutMs);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (error instanceof HttpError || error instanceof StatusError) {
          return { error: `Weather lookup failed: ${message}` };
        }
        return { error: `Unexpected error during weather lookup: ${message}` };
      }
    },
  };
}

/** `get_weather` with the reference's 20 s per request. */
export const getWeather: BuiltinImplementation = makeGetWeather();
