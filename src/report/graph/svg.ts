// DOT to SVG with Graphviz compiled to WebAssembly (@hpcc-js/wasm-graphviz): the real `dot`
// layout, in this process, with no native build, no browser and no network (the WebAssembly
// module is embedded in the package). Loading it takes a fraction of a second, so it is loaded
// only by the commands that draw.
export interface SvgRenderer {
  /** An `<svg>` element (no XML prolog), ready to write to a file or inline in HTML. */
  render(dot: string): string;
}

let loading: Promise<SvgRenderer> | undefined;

export function loadSvgRenderer(): Promise<SvgRenderer> {
  loading ??= (async () => {
    const { Graphviz } = await import('@hpcc-js/wasm-graphviz');
    const graphviz = await Graphviz.load();
    return { render: (dot: string) => stripProlog(graphviz.dot(dot, 'svg')) };
  })();
  return loading;
}

/** Graphviz writes an XML declaration, a DOCTYPE and a comment before `<svg`. */
function stripProlog(svg: string): string {
  const start = svg.indexOf('<svg');
  return start >= 0 ? svg.slice(start) : svg;
}

/** A standalone SVG file: the element with its XML declaration. */
export function svgFile(svgElement: string): string {
  return `<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n${svgElement}`;
}
