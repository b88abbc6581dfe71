import { describe, expect, it } from "vitest";

import { decodeArray, decodePayload, halfToFloat, quantitiesOf } from "./codecs";
import type { Payload } from "./model";
import { f32Bytes, viewAt } from "./testing";

describe("decodeArray", () => {
  it("round-trips float32 from a DataView at an odd byteOffset", () => {
    const values = [0, 1.5, -2.25, 3.4028234663852886e38, -1e-30, 0.1];
    const out = decodeArray({ dtype: "float32", shape: [2, 3], data: viewAt(f32Bytes(values), 3) });
    expect(out.shape).toEqual([2, 3]);
    expect(out.data).toBeInstanceOf(Float32Array);
    expect(Array.from(out.data)).toEqual(Array.from(Float32Array.from(values)));
  });

  it("keeps NaN and ±Inf in float32", () => {
    const out = decodeArray({ dtype: "float32", shape: [3], data: viewAt(f32Bytes([NaN, Infinity, -Infinity]), 4) });
    expect(Number.isNaN(out.data[0])).toBe(true);
    expect(out.data[1]).toBe(Infinity);
    expect(out.data[2]).toBe(-Infinity);
  });

  it("accepts an ArrayBuffer and a Uint8Array with an offset", () => {
    const bytes = f32Bytes([1, 2, 3, 4]);
    const fromBuffer = decodeArray({ dtype: "float32", shape: [4], data: bytes.slice().buffer });
    expect(Array.from(fromBuffer.data)).toEqual([1, 2, 3, 4]);
    const big = new Uint8Array(bytes.byteLength + 7);
    big.set(bytes, 7);
    const fromU8 = decodeArray({ dtype: "float32", shape: [2, 2], data: big.subarray(7) });
    expect(Array.from(fromU8.data)).toEqual([1, 2, 3, 4]);
  });

  it("decodes float16 (normal, subnormal, signed, Inf, NaN) into a Float32Array", () => {
    const bits = [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00, 0xfc00, 0x7e00, 0x0000, 0x8000];
    const dv = new DataView(new ArrayBuffer(bits.length * 2));
    bits.forEach((b, i) => dv.setUint16(i * 2, b, true));
    const out = decodeArray({ dtype: "float16", shape: [bits.length], data: viewAt(new Uint8Array(dv.buffer), 1) });
    expect(out.data).toBeInstanceOf(Float32Array);
    expect(Array.from(out.data.slice(0, 7))).toEqual([1, -2, 0.5, 65504, 2 ** -24, Infinity, -Infinity]);
    expect(Number.isNaN(out.data[7])).toBe(true);
    expect(Object.is(out.data[8], 0)).toBe(true);
    expect(Object.is(out.data[9], -0)).toBe(true);
  });

  it("halfToFloat decodes a representative value", () => {
    expect(halfToFloat(0x3555)).toBeCloseTo(0.333251953125, 12);
  });

  it("decodes int32 (negative too) and uint8", () => {
    const dv = new DataView(new ArrayBuffer(12));
    [-7, 0, 2147483647].forEach((v, i) => dv.setInt32(i * 4, v, true));
    const ints = decodeArray({ dtype: "int32", shape: [3], data: viewAt(new Uint8Array(dv.buffer), 2) });
    expect(Array.from(ints.data)).toEqual([-7, 0, Math.fround(2147483647)]);
    const bytes = decodeArray({ dtype: "uint8", shape: [1, 3], data: viewAt(Uint8Array.from([0, 128, 255]), 1) });
    expect(Array.from(bytes.data)).toEqual([0, 128, 255]);
  });

  it("throws a clear error when the byte length does not match the shape", () => {
    const data = viewAt(f32Bytes([1, 2, 3]), 4);
    expect(() => decodeArray({ dtype: "float32", shape: [2, 2], data }, "h")).toThrowError(
      /h: 12 bytes for dtype float32 and shape \[2, 2\]; expected 4 × 4 = 16/,
    );
    expect(() => decodeArray({ dtype: "float16", shape: [3], data })).toThrowError(/expected 3 × 2 = 6/);
  });

  it("rejects unknown dtypes, bad shapes and JSON lists", () => {
    const data = viewAt(f32Bytes([1]), 0);
    expect(() => decodeArray({ dtype: "float64", shape: [1], data })).toThrowError(/unsupported dtype "float64"/);
    expect(() => decodeArray({ dtype: "float32", shape: [-1], data })).toThrowError(/invalid shape/);
    expect(() => decodeArray({ dtype: "float32", shape: [1], data: [1] as unknown as DataView })).toThrowError(
      /JSON list/,
    );
  });
});

function payload(overrides: Partial<Payload> = {}): Payload {
  const B = 2;
  const T = 3;
  const U = 2;
  const arr = (f: (i: number) => number) => ({
    dtype: "float32",
    shape: [B, T, U],
    data: viewAt(f32Bytes(Array.from({ length: B * T * U }, (_, i) => f(i))), 8),
  });
  return {
    format: 1,
    model_name: "m",
    n_samples: B,
    n_steps: T,
    lengths: [3, 2],
    tokens: [
      ["a", "b", "c"],
      ["d", "e", "f"],
    ],
    layers: [
      {
        name: "lstm",
        kind: "LSTM",
        units: U,
        direction: null,
        fidelity: 1e-7,
        arrays: { h: arr((i) => i / 10), c: arr((i) => -i), "gate:input": arr(() => 0.5) },
      },
    ],
    ...overrides,
  };
}

describe("decodePayload", () => {
  it("decodes every array once, with metadata", () => {
    const p = decodePayload(payload());
    expect(p.nSamples).toBe(2);
    expect(p.nSteps).toBe(3);
    expect(p.lengths).toEqual([3, 2]);
    expect(p.tokens?.[1][2]).toBe("f");
    const layer = p.layers[0];
    expect(layer.units).toBe(2);
    expect(quantitiesOf(layer)).toEqual(["h", "c", "gate:input"]);
    // (b=1, t=2, u=1) → flat index (1*3 + 2)*2 + 1 = 11
    expect(layer.arrays.get("h")?.data[11]).toBeCloseTo(1.1, 6);
    expect(layer.arrays.get("c")?.data[11]).toBe(-11);
  });

  it("rejects an empty payload, a wrong format and inconsistent shapes", () => {
    expect(() => decodePayload({} as Payload)).toThrowError(/no data/);
    expect(() => decodePayload(payload({ format: 2 }))).toThrowError(/format 2/);
    expect(() => decodePayload(payload({ n_steps: 4 }))).toThrowError(/n_steps=4/);
    expect(() => decodePayload(payload({ layers: [] }))).toThrowError(/no layers/);
  });

  it("caps each layer's valid lengths by its own steps (a shorter decoder)", () => {
    const raw = payload();
    const full = decodePayload(raw).layers[0];
    expect(full.lengths).toEqual([3, 2]);
    raw.layers[0].steps = 1;
    expect(decodePayload(raw).layers[0].lengths).toEqual([1, 1]);
    raw.layers[0].steps = 4;
    expect(() => decodePayload(raw)).toThrowError(/steps must be in \[1, 3\], got 4/);
  });

  it("treats missing tokens as null", () => {
    expect(decodePayload(payload({ tokens: null })).tokens).toBeNull();
  });
});

describe("zero copy and scaled arrays", () => {
  it("views an aligned float32 buffer without copying", () => {
    const src = new Float32Array([1, 2, 3, 4]);
    const out = decodeArray({ dtype: "float32", shape: [4], data: new DataView(src.buffer) });
    expect(out.data.buffer).toBe(src.buffer);
    expect([...out.data]).toEqual([1, 2, 3, 4]);
  });
  it("multiplies a scaled float16 array back (gradients below float16's range)", () => {
    // 1e-9 is below float16's smallest subnormal (6e-8): sent as 0.5 with scale 2e-9
    const dv = new DataView(new ArrayBuffer(4));
    dv.setUint16(0, 0x3800, true); // 0.5
    dv.setUint16(2, 0xbc00, true); // -1
    const out = decodeArray({ dtype: "float16", shape: [2], data: dv, scale: 2e-9 });
    expect(out.data[0]).toBeCloseTo(1e-9, 15);
    expect(out.data[1]).toBeCloseTo(-2e-9, 15);
    expect(() => decodeArray({ dtype: "float16", shape: [2], data: dv, scale: -1 })).toThrowError(/invalid scale/);
  });
});
