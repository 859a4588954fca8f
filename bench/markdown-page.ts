/** A Markdown page being written (BENCHMARKS.md): the lines so far, and a table row writer. */
export class Page {
  readonly lines: string[] = [];
  text(...lines: string[]): void {
    this.lines.push(...lines);
  }
  row(...cells: string[]): void {
    this.lines.push(`| ${cells.join(' | ')} |`);
  }
}
