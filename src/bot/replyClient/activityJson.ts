import { ConnectorMappers } from 'botframework-connector/lib/connectorApi/connectorClient.js';

/**
 * The JSON body the SDK's ConnectorClient sends for an outgoing activity, without walking the
 * @azure/core-client mapper tree per value (its `Serializer.serialize` matches the type name with a
 * regular expression on every value and copies every object: ≈ 3 % of the turn's main thread).
 *
 * The mappers are the SDK's own (`ConnectorMappers.Activity` and the classes it names), compiled
 * once into plain functions with the same rules as core-client's serializer for the features these
 * mappers use: properties in mapper order under their serialized name, unknown properties dropped,
 * `undefined` left out, `null` kept, String / Boolean / Number checked, Object passed through,
 * DateTime as ISO 8601, Sequence and Dictionary element by element. Where the SDK would throw (a
 * value of the wrong type) or do anything this file does not copy, the answer is `undefined`, and
 * the caller sends through the SDK instead, which then behaves exactly as before.
 */

interface Mapper {
  serializedName?: string;
  readOnly?: boolean;
  required?: boolean;
  nullable?: boolean;
  isConstant?: boolean;
  defaultValue?: unknown;
  constraints?: unknown;
  xmlNamespace?: string;
  type: {
    name: string;
    className?: string;
    modelProperties?: Record<string, Mapper>;
    additionalProperties?: unknown;
    polymorphicDiscriminator?: unknown;
    uberParent?: string;
    element?: Mapper;
    value?: Mapper;
  };
}

/** Returns the serialized value, or BAIL when the SDK would not produce this (or would throw). */
type Serialize = (value: unknown) => unknown;

const BAIL = Symbol('bail');

class Unsupported extends Error {}

/** The JSON string the SDK would send for `activity`, or undefined when only the SDK can say. */
export type ActivityJson = (activity: unknown) => string | undefined;

/** Compiles the SDK's Activity mapper; throws when it uses a feature this file does not implement. */
export function compileActivityJson(mappers: Record<string, Mapper> = ConnectorMappers as unknown as Record<string, Mapper>): ActivityJson {
  const composites = new Map<string, Serialize>();

  const compile = (mapper: Mapper, where: string): Serialize => {
    if (mapper.isConstant || mapper.defaultValue !== undefined || mapper.constraints || mapper.xmlNamespace || mapper.required || mapper.nullable !== undefined) {
      throw new Unsupported(`${where}: mapper options`);
    }
    const name = mapper.type.name;
    switch (name) {
      case 'String':
        return (v) => (typeof v === 'string' ? v : BAIL);
      case 'Boolean':
        return (v) => (typeof v === 'boolean' ? v : BAIL);
      case 'Number':
        return (v) => (typeof v === 'number' ? v : BAIL);
      case 'Object':
        return (v) => v;
      case 'DateTime':
        return (v) => {
          if (v instanceof Date) return Number.isNaN(v.getTime()) ? BAIL : v.toISOString();
          if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return new Date(v).toISOString();
          return BAIL;
        };
      case 'Sequence': {
        const element = mapper.type.element;
        if (!element) throw new Unsupported(`${where}: sequence without element`);
        const each = element.type.name === 'Composite' && element.type.className ? composite(element.type.className, `${where}[]`) : compile(element, `${where}[]`);
        return (v) => {
          if (!Array.isArray(v)) return BAIL;
          const out = new Array<unknown>(v.length);
          for (let i = 0; i < v.length; i++) {
            const item = v[i] as unknown;
            if (item === undefined || item === null) {
              out[i] = item;
              continue;
            }
            const s = each(item);
            if (s === BAIL) return BAIL;
            out[i] = s;
          }
          return out;
        };
      }
      case 'Dictionary': {
        const valueMapper = mapper.type.value;
        if (!valueMapper) throw new Unsupported(`${where}: dictionary without value`);
        const each = compile(valueMapper, `${where}{}`);
        return (v) => {
          if (typeof v !== 'object') return BAIL;
          const out: Record<string, unknown> = {};
          for (const key of Object.keys(v as object)) {
            const item = (v as Record<string, unknown>)[key];
            if (item === undefined || item === null) {
              out[key] = item;
              continue;
            }
            const s = each(item);
            if (s === BAIL) return BAIL;
            out[key] = s;
          }
          return out;
        };
      }
      case 'Composite': {
        if (mapper.type.modelProperties) throw new Unsupported(`${where}: inline composite`);
        if (!mapper.type.className) throw new Unsupported(`${where}: composite without class`);
        return composite(mapper.type.className, where);
      }
      default:
        throw new Unsupported(`${where}: type ${name}`);
    }
  };

  /** One function per class, shared by every property that names it (built lazily: classes refer to each other). */
  function composite(className: string, where: string): Serialize {
    const known = composites.get(className);
    if (known) return known;
    const lazy: Serialize = (v) => fn(v);
    composites.set(className, lazy);
    const model = mappers[className];
    if (!model || model.type.name !== 'Composite' || !model.type.modelProperties) throw new Unsupported(`${where}: class ${className} not found`);
    if (model.type.additionalProperties || model.type.polymorphicDiscriminator || model.type.uberParent) throw new Unsupported(`${className}: additional or polymorphic properties`);
    const props = Object.entries(model.type.modelProperties).map(([key, m]) => {
      if (m.readOnly) throw new Unsupported(`${className}.${key}: read-only`);
      const out = m.serializedName;
      if (!out || /[.\\]/.test(out) || out === '__proto__') throw new Unsupported(`${className}.${key}: serialized name`);
      return { key, out, serialize: compile(m, `${className}.${key}`) };
    });
    const fn: Serialize = (v) => {
      if (typeof v !== 'object' || Array.isArray(v) || v instanceof Date) return BAIL;
      const source = v as Record<string, unknown>;
      const payload: Record<string, unknown> = {};
      for (const p of props) {
        const value = source[p.key];
        if (value === undefined) continue;
        if (value === null) {
          payload[p.out] = null;
          continue;
        }
        const s = p.serialize(value);
        if (s === BAIL) return BAIL;
        if (s !== undefined) payload[p.out] = s;
      }
      return payload;
    };
    return lazy;
  }

  const activity = composite('Activity', 'Activity');
  return (value) => {
    if (value === undefined || value === null) return undefined; // required: the SDK throws
    try {
      const payload = activity(value);
      return payload === BAIL ? undefined : JSON.stringify(payload);
    } catch {
      return undefined; // a throwing getter, a cycle or a BigInt under channelData: the SDK says how it fails
    }
  };
}
