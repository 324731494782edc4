import { Box, Text, useComputedColorScheme } from '@mantine/core';

/** One association test result as the plots need it. */
export interface AssociationPoint {
  snp: number;
  label: string;
  chrom: string | null;
  pos: number | null;
  p: number;
}

const WIDTH = 960;
const HEIGHT = 300;
const MARGIN = { left: 48, right: 12, top: 12, bottom: 36 };
const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;

function negLog10(p: number): number {
  return -Math.log10(Math.max(p, 1e-300));
}

function niceMax(value: number): number {
  return Math.max(1, Math.ceil(value));
}

function usePalette() {
  const dark = useComputedColorScheme('light') === 'dark';
  return {
    axis: dark ? '#a6a7ab' : '#495057',
    grid: dark ? '#373a40' : '#e9ecef',
    even: dark ? '#74c0fc' : '#1c7ed6',
    odd: dark ? '#b197fc' : '#7048e8',
    line: dark ? '#ff8787' : '#e03131',
    text: dark ? '#c1c2c5' : '#343a40',
  };
}

function Axes({ yMax, xLabel, yLabel }: { yMax: number; xLabel: string; yLabel: string }) {
  const palette = usePalette();
  const ticks = Array.from({ length: yMax + 1 }, (_, i) => i).filter((t) => yMax <= 8 || t % 2 === 0);
  return (
    <g>
      {ticks.map((tick) => {
        const y = MARGIN.top + plotHeight - (tick / yMax) * plotHeight;
        return (
          <g key={tick}>
            <line x1={MARGIN.left} x2={MARGIN.left + plotWidth} y1={y} y2={y} stroke={palette.grid} />
            <text x={MARGIN.left - 6} y={y + 4} textAnchor="end" fontSize={11} fill={palette.text}>
              {tick}
            </text>
          </g>
        );
      })}
      <line x1={MARGIN.left} x2={MARGIN.left} y1={MARGIN.top} y2={MARGIN.top + plotHeight} stroke={palette.axis} />
      <line
        x1={MARGIN.left}
        x2={MARGIN.left + plotWidth}
        y1={MARGIN.top + plotHeight}
        y2={MARGIN.top + plotHeight}
        stroke={palette.axis}
      />
      <text x={MARGIN.left + plotWidth / 2} y={HEIGHT - 4} textAnchor="middle" fontSize={12} fill={palette.text}>
        {xLabel}
      </text>
      <text
        transform={`translate(14 ${MARGIN.top + plotHeight / 2}) rotate(-90)`}
        textAnchor="middle"
        fontSize={12}
        fill={palette.text}
      >
        {yLabel}
      </text>
    </g>
  );
}

/** −log10(p) per SNP in genome order, chromosomes in alternating colours, genome-wide line at 5e-8. */
export function ManhattanPlot({ points }: { points: AssociationPoint[] }) {
  const palette = usePalette();
  const ordered = [...points].sort(
    (a, b) => chromOrder(a.chrom) - chromOrder(b.chrom) || (a.pos ?? a.snp) - (b.pos ?? b.snp) || a.snp - b.snp,
  );
  const chromosomes = [...new Set(ordered.map((point) => point.chrom ?? '?'))];
  const yMax = niceMax(Math.max(negLog10(5e-8), ...ordered.map((point) => negLog10(point.p))));
  const x = (index: number) => MARGIN.left + ((index + 0.5) / Math.max(1, ordered.length)) * plotWidth;
  const y = (value: number) => MARGIN.top + plotHeight - (value / yMax) * plotHeight;
  const threshold = y(negLog10(5e-8));
  return (
    <Box>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        width="100%"
        style={{ maxWidth: WIDTH, display: 'block' }}
        role="img"
        aria-label={`Manhattan plot of ${points.length} SNPs over ${chromosomes.length} chromosomes`}
        data-testid="manhattan-plot"
      >
        <Axes yMax={yMax} xLabel="Chromosome" yLabel="−log10(p)" />
        <line
          x1={MARGIN.left}
          x2={MARGIN.left + plotWidth}
          y1={threshold}
          y2={threshold}
          stroke={palette.line}
          strokeDasharray="4 3"
        />
        {chromosomes.map((chrom) => {
          const first = ordered.findIndex((point) => (point.chrom ?? '?') === chrom);
          const count = ordered.filter((point) => (point.chrom ?? '?') === chrom).length;
          return (
            <text
              key={chrom}
              x={x(first + (count - 1) / 2)}
              y={MARGIN.top + plotHeight + 14}
              textAnchor="middle"
              fontSize={11}
              fill={palette.text}
            >
              {chrom.replace(/^chr/i, '')}
            </text>
          );
        })}
        {ordered.map((point, index) => {
          const colour = chromosomes.indexOf(point.chrom ?? '?') % 2 === 0 ? palette.even : palette.odd;
          return (
            <circle key={point.snp} cx={x(index)} cy={y(negLog10(point.p))} r={3} fill={colour}>
              <title>{`${point.label}: p = ${point.p.toExponential(2)}`}</title>
            </circle>
          );
        })}
      </svg>
      <Text size="xs" c="dimmed">
        Dashed line: genome-wide significance (p = 5×10⁻⁸).
      </Text>
    </Box>
  );
}

function chromOrder(chrom: string | null): number {
  if (chrom === null) return 1000;
  const bare = chrom.replace(/^chr/i, '');
  const number = Number(bare);
  if (Number.isInteger(number)) return number;
  return { X: 23, Y: 24, MT: 25, M: 25 }[bare.toUpperCase()] ?? 999;
}

/** Observed against expected −log10(p) under the null, with the identity line, and λ (genomic inflation). */
export function QQPlot({ points, chisq }: { points: AssociationPoint[]; chisq: number[] }) {
  const palette = usePalette();
  const observed = points.map((point) => negLog10(point.p)).sort((a, b) => b - a);
  const n = observed.length;
  const expected = observed.map((_, i) => negLog10((i + 0.5) / n));
  const yMax = niceMax(Math.max(1, ...observed, ...expected));
  const scaleX = (value: number) => MARGIN.left + (value / yMax) * plotWidth;
  const scaleY = (value: number) => MARGIN.top + plotHeight - (value / yMax) * plotHeight;
  const lambda = genomicInflation(chisq);
  return (
    <Box>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        width="100%"
        style={{ maxWidth: WIDTH, display: 'block' }}
        role="img"
        aria-label={`QQ plot of ${n} p-values${lambda === null ? '' : `, lambda ${lambda.toFixed(3)}`}`}
        data-testid="qq-plot"
      >
        <Axes yMax={yMax} xLabel="Expected −log10(p)" yLabel="Observed −log10(p)" />
        <line x1={scaleX(0)} y1={scaleY(0)} x2={scaleX(yMax)} y2={scaleY(yMax)} stroke={palette.line} />
        {observed.map((value, i) => (
          <circle key={i} cx={scaleX(expected[i]!)} cy={scaleY(value)} r={3} fill={palette.even} />
        ))}
      </svg>
      <Text size="xs" c="dimmed">
        {lambda === null ? 'λ not available' : `Genomic inflation λ = ${lambda.toFixed(3)}`} (median χ² / 0.4549).
      </Text>
    </Box>
  );
}

/** λ_GC = median(χ²₁) / 0.4549. */
export function genomicInflation(chisq: number[]): number | null {
  const values = chisq.filter(Number.isFinite).sort((a, b) => a - b);
  if (values.length === 0) return null;
  const mid = Math.floor(values.length / 2);
  const median = values.length % 2 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
  return median / 0.454936;
}
