import { describe, expect, it } from 'vitest';
import { ALGORITHMS } from '../contracts/constants';
import { canonicalDigest } from '../fhe/canonical';
import { emptyGenotypeCounts } from '../fhe/layout';
import {
  algorithmFor,
  allelicTest,
  chiSquare1UpperTail,
  erfc,
  interpretResult,
  isAlgorithmError,
  jobParamsHash,
  meanVariance,
  parseVariantTable,
  sigmoid,
  trendTest,
  type AlgorithmInputs,
  type AllelicTable,
  type SnpTable,
} from './index';

/** erfc(x) to 25 digits (mpmath at 50 digits): reference values, not outputs of this code. */
const ERFC_REFERENCE: [string, string][] = [
  ['0', '1.0'],
  ['0.001', '0.9988716212090307636200515'],
  ['0.25', '0.7236736098317630670149317'],
  ['0.4999', '0.4795880048386134194028337'],
  ['0.5', '0.4795001221869534623172533'],
  ['0.75', '0.2888443663464848684010622'],
  ['1', '0.1572992070502851306587794'],
  ['1.5', '0.03389485352468927293302374'],
  ['2', '0.004677734981047265837930744'],
  ['3', '0.00002209049699858544137277613'],
  ['4.5', '1.96616044154288747627916e-10'],
  ['6', '2.151973671249891311659335e-17'],
  ['9', '4.137031746513810238053903e-37'],
  ['14', '3.037229847750311665115173e-87'],
  ['20', '5.395865611607900928934999e-176'],
  ['26', '5.663192408856142846475728e-296'],
];

function code(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return isAlgorithmError(error) ? error.algorithmCode : `not an AlgorithmError: ${String(error)}`;
  }
  return undefined;
}

/** Deterministic pseudo-random integers for table generation. */
function randomInts(seed: number) {
  let state = seed;
  return (max: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % (max + 1);
  };
}

describe('erfc and the chi-square(1) upper tail', () => {
  it('match 25-digit reference values to 1e-14 relative over the whole range', () => {
    for (const [x, expected] of ERFC_REFERENCE) {
      const value = erfc(Number(x));
      expect(Math.abs(value - Number(expected)) / Number(expected), `erfc(${x})`).toBeLessThan(1e-14);
    }
    expect(erfc(-1)).toBeCloseTo(2 - 0.15729920705028513, 15);
    expect(erfc(30)).toBe(0);
  });

  it('gives P = 0.05 at the 95% quantile and P = 1 at 0', () => {
    expect(Math.abs(chiSquare1UpperTail(3.841458820694124) - 0.05)).toBeLessThan(1e-15);
    expect(chiSquare1UpperTail(0)).toBe(1);
    expect(Number.isNaN(chiSquare1UpperTail(Number.NaN))).toBe(true);
  });
});

describe('allelic test (PLINK --assoc)', () => {
  it('equals the Pearson Σ(O−E)²/E of the 2×2 allele table to 1e-12 on random tables', () => {
    const next = randomInts(7);
    for (let i = 0; i < 500; i += 1) {
      const table: SnpTable = {
        case: [next(300), next(300), next(300)],
        control: [next(300), next(300), next(300)],
      };
      const test = allelicTest(table);
      const caseAlt = table.case[1] + 2 * table.case[2];
      const caseRef = 2 * table.case[0] + table.case[1];
      const ctrlAlt = table.control[1] + 2 * table.control[2];
      const ctrlRef = 2 * table.control[0] + table.control[1];
      const cells = [
        [caseAlt, caseRef],
        [ctrlAlt, ctrlRef],
      ];
      const n = caseAlt + caseRef + ctrlAlt + ctrlRef;
      let pearson = 0;
      for (const r of [0, 1]) {
        for (const c of [0, 1]) {
          const expected = ((cells[r]![0]! + cells[r]![1]!) * (cells[0]![c]! + cells[1]![c]!)) / n;
          pearson += (cells[r]![c]! - expected) ** 2 / expected;
        }
      }
      expect(Math.abs(test.chisq! - pearson) / Math.max(pearson, 1e-300)).toBeLessThan(1e-12);
      expect(test.p).toBe(chiSquare1UpperTail(test.chisq!));
      // A1 is the minor allele; OR is A1's odds ratio.
      expect(test.a1IsAlt).toBe(caseAlt + ctrlAlt <= caseRef + ctrlRef);
      const [a, b, c, d] = test.a1IsAlt ? [caseAlt, caseRef, ctrlAlt, ctrlRef] : [caseRef, caseAlt, ctrlRef, ctrlAlt];
      expect(test.or).toBeCloseTo((a * d) / (b * c), 12);
      expect(test.fA).toBe(a / (a + b));
      expect(test.fU).toBe(c / (c + d));
    }
  });

  it('prints NA where PLINK does', () => {
    const monomorphic = allelicTest({ case: [10, 0, 0], control: [12, 0, 0] });
    expect([monomorphic.chisq, monomorphic.p, monomorphic.or]).toEqual([null, null, null]);
    expect(monomorphic.fA).toBe(0);
    const noGenotypes = allelicTest({ case: [0, 0, 0], control: [0, 0, 0] });
    expect([noGenotypes.fA, noGenotypes.fU, noGenotypes.chisq]).toEqual([null, null, null]);
    const noControls = allelicTest({ case: [2, 3, 1], control: [0, 0, 0] });
    expect([noControls.chisq, noControls.p, noControls.fU, noControls.or]).toEqual([0, 1, null, null]);
    const zeroCell = allelicTest({ case: [4, 0, 0], control: [1, 2, 1] });
    expect(zeroCell.or).toBe(0);
  });
});

describe('trend test (PLINK --model TREND)', () => {
  it('equals N·r² of dosage and case status over the samples, to 1e-10', () => {
    const next = randomInts(11);
    for (let i = 0; i < 200; i += 1) {
      const table: SnpTable = { case: [next(60), next(60), next(60)], control: [next(60), next(60), next(60)] };
      const dose: number[] = [];
      const status: number[] = [];
      for (const [group, counts] of [
        [1, table.case],
        [0, table.control],
      ] as const) {
        counts.forEach((count, k) => {
          for (let s = 0; s < count; s += 1) {
            dose.push(k);
            status.push(group);
          }
        });
      }
      const n = dose.length;
      const mx = dose.reduce((sum, x) => sum + x, 0) / n;
      const my = status.reduce((sum, y) => sum + y, 0) / n;
      let sxy = 0;
      let sxx = 0;
      let syy = 0;
      for (let s = 0; s < n; s += 1) {
        sxy += (dose[s]! - mx) * (status[s]! - my);
        sxx += (dose[s]! - mx) ** 2;
        syy += (status[s]! - my) ** 2;
      }
      const test = trendTest(table);
      if (sxx === 0 || syy === 0) {
        expect(test.chisq).toBeNull();
        continue;
      }
      const expected = (n * sxy * sxy) / (sxx * syy);
      expect(Math.abs(test.chisq! - expected) / Math.max(expected, 1e-12)).toBeLessThan(1e-10);
    }
  });

  it('is NA with an empty group or a single genotype', () => {
    expect(trendTest({ case: [1, 2, 3], control: [0, 0, 0] }).chisq).toBeNull();
    expect(trendTest({ case: [0, 5, 0], control: [0, 7, 0] }).chisq).toBeNull();
  });
});

describe('mean, variance, sigmoid', () => {
  it('mean and sample variance from sums equal a two-pass computation', () => {
    const values = [3.5, -1.25, 8, 0, 12.75, 6.5, 2];
    const mean = values.reduce((s, x) => s + x, 0) / values.length;
    const variance = values.reduce((s, x) => s + (x - mean) ** 2, 0) / (values.length - 1);
    const result = meanVariance({
      column: 'x',
      count: values.length,
      sum: values.reduce((s, x) => s + x, 0),
      sumOfSquares: values.reduce((s, x) => s + x * x, 0),
    });
    expect(result.mean).toBeCloseTo(mean, 12);
    expect(result.variance).toBeCloseTo(variance, 12);
    expect(result.populationVariance).toBeCloseTo((variance * (values.length - 1)) / values.length, 12);
    expect(meanVariance({ column: 'x', count: 0, sum: 0, sumOfSquares: 0 }).mean).toBeNull();
    expect(meanVariance({ column: 'x', count: 1, sum: 4, sumOfSquares: 16 }).variance).toBeNull();
  });

  it('sigmoid is exact at 0, symmetric and does not overflow', () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(2) + sigmoid(-2)).toBeCloseTo(1, 15);
    expect(sigmoid(1000)).toBe(1);
    expect(sigmoid(-1000)).toBe(0);
  });
});

describe('registry, params and result interpretation', () => {
  it('finds every registered id (any hex case) and refuses unknown ones', () => {
    for (const { id, name } of Object.values(ALGORITHMS)) {
      expect(algorithmFor(id).name).toBe(name);
      expect(algorithmFor(id.toUpperCase().replace('0X', '0x')).id).toBe(id);
    }
    expect(code(() => algorithmFor('0x' + '00'.repeat(32)))).toBe('UNKNOWN_ALGORITHM');
    expect(code(() => algorithmFor('cos.alg.allele-counts.v1'))).toBe('UNKNOWN_ALGORITHM');
  });

  it('refuses params that do not match the schema before touching any object', async () => {
    const touched: string[] = [];
    const inputs = (params: unknown) =>
      ({
        params,
        excludedSamples: new Set(),
        loadObject: async (digest: string) => {
          touched.push(digest);
          return new Uint8Array();
        },
        loadPublicKeys: async () => new Uint8Array(),
      }) as unknown as AlgorithmInputs;
    const failures = [
      [ALGORITHMS.GWAS_ALLELIC_CHISQ.id, { column: 'age' }],
      [ALGORITHMS.MEAN_VARIANCE.id, {}],
      [ALGORITHMS.MEAN_VARIANCE.id, { column: 3 }],
      [ALGORITHMS.LOGREG_INFERENCE.id, { columns: ['age'], coefficients: [1, 2], intercept: 0 }],
      [ALGORITHMS.LOGREG_INFERENCE.id, { columns: ['age', 'age'], coefficients: [1, 2], intercept: 0 }],
      [ALGORITHMS.LOGREG_INFERENCE.id, { columns: ['age'], coefficients: [Number.NaN], intercept: 0 }],
      [ALGORITHMS.LOGREG_INFERENCE.id, { columns: ['age'], coefficients: [1e9], intercept: 0 }],
    ] as const;
    for (const [id, params] of failures) {
      await expect(algorithmFor(id).evaluate(inputs(params))).rejects.toMatchObject({ algorithmCode: 'BAD_PARAMS' });
    }
    expect(touched).toEqual([]);
  });

  it('jobParamsHash is canonical: key order free, floats as round-trip strings, integers as canonicalDigest', () => {
    const model = { columns: ['age', 'bmi'], coefficients: [0.031, -0.2], intercept: -1.5 };
    const reordered = { intercept: -1.5, coefficients: [0.031, -0.2], columns: ['age', 'bmi'] };
    expect(jobParamsHash(model)).toMatch(/^0x[0-9a-f]{64}$/);
    expect(jobParamsHash(reordered)).toBe(jobParamsHash(model));
    expect(jobParamsHash({ ...model, intercept: -1.5000001 })).not.toBe(jobParamsHash(model));
    expect(jobParamsHash({})).toBe(canonicalDigest({}));
    expect(jobParamsHash({ column: 'age', n: 3 })).toBe(canonicalDigest({ column: 'age', n: 3 }));
    expect(code(() => jobParamsHash({ intercept: Number.POSITIVE_INFINITY }))).toBe('BAD_PARAMS');
  });

  it('interprets counts into PLINK-style rows and refuses malformed decrypted results', () => {
    const counts = emptyGenotypeCounts(2);
    counts.case[0][0] = 10;
    counts.case[1][0] = 5;
    counts.control[0][0] = 14;
    counts.control[2][0] = 1;
    const variants = parseVariantTable('index\tchrom\tpos\tid\tref\talt\n0\t1\t100\trs1\tA\tG\n1\t1\t200\trs2\tC\t.\n');
    const table = interpretResult(ALGORITHMS.GWAS_ALLELIC_CHISQ.id, { counts, excludedSamples: [] }, {}, variants);
    const rows = (table as AllelicTable).rows;
    expect(rows[0]).toMatchObject({ id: 'rs1', a1: 'G', a2: 'A', a1IsAlt: true, fA: 5 / 30, fU: 2 / 30 });
    expect(rows[0]!.chisq).toBeCloseTo(allelicTest({ case: [10, 5, 0], control: [14, 0, 1] }).chisq!, 15);
    expect(rows[1]).toMatchObject({ a1: '.', a2: 'C', chisq: null, p: null, or: null });
    expect(JSON.parse(JSON.stringify(table))).toEqual(table);

    expect(code(() => interpretResult('0x1234', { counts, excludedSamples: [] }, {}))).toBe('UNKNOWN_ALGORITHM');
    expect(code(() => interpretResult(ALGORITHMS.GWAS_TREND.id, { sums: [], excludedSamples: [] } as never, {}))).toBe(
      'BAD_RESULT',
    );
    expect(
      code(() => interpretResult(ALGORITHMS.GWAS_TREND.id, { counts, excludedSamples: [] }, {}, variants.slice(1))),
    ).toBe('BAD_INPUT');
    const scores = {
      paramsHash: jobParamsHash({ columns: ['age'], coefficients: [1], intercept: 0 }),
      columns: ['age'],
      excludedSamples: [],
      linearPredictors: Float64Array.of(0.5, Number.NaN),
    };
    const logreg = interpretResult(ALGORITHMS.LOGREG_INFERENCE.id, scores, {
      columns: ['age'],
      coefficients: [1],
      intercept: 0,
    });
    expect(logreg.rows).toEqual([
      { sample: 0, linearPredictor: 0.5, probability: sigmoid(0.5) },
      { sample: 1, linearPredictor: null, probability: null },
    ]);
    expect(
      code(() =>
        interpretResult(ALGORITHMS.LOGREG_INFERENCE.id, scores, { columns: ['age'], coefficients: [2], intercept: 0 }),
      ),
    ).toBe('BAD_RESULT');
  });

  it('parses the variant table and refuses malformed ones', () => {
    const good = 'index\tchrom\tpos\tid\tref\talt\n0\t1\t100\trs1\tA\tG\n';
    expect(parseVariantTable(new TextEncoder().encode(good))).toEqual([
      { index: 0, chrom: '1', pos: 100, id: 'rs1', ref: 'A', alt: 'G' },
    ]);
    expect(code(() => parseVariantTable('index\tchrom\n'))).toBe('BAD_INPUT');
    expect(code(() => parseVariantTable(good + '5\t1\t100\trs1\tA\tG\n'))).toBe('BAD_INPUT');
    expect(code(() => parseVariantTable(good.replace('100', 'x')))).toBe('BAD_INPUT');
    expect(code(() => parseVariantTable(Uint8Array.of(0xff, 0xfe)))).toBe('BAD_INPUT');
  });
});
