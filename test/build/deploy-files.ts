/**
 * Every deployment file the repository holds, for checking the JSON Schema against the loader: the
 * example and fixture files, and the YAML written inline in the loader's and the end-to-end tests
 * (string literals and templates, with the constants they interpolate resolved; any other
 * interpolation becomes `x`, which at worst makes a file the loader refuses, and so skips it).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { dedent } from '../action/plan/helpers.ts';

export interface DeployFile {
  /** Where it was written: `test/e2e/callbacks.test.ts:26`. */
  source: string;
  text: string;
}

const INLINE_SOURCES = ['test/e2e', 'test/action/plan'];
const FILE_SOURCES = ['examples', 'test/fixtures'];

function filesUnder(root: string, dir: string, test: (name: string) => boolean): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && test(entry.name))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

/** A helper that returns a string made of its parameters (harness.ts `webhook(name, query, extra = '')`). */
interface Helper {
  params: readonly ts.ParameterDeclaration[];
  body: ts.Expression;
}

/** What a file knows by name: string constants and string-returning helpers. */
interface Scope {
  constants: ReadonlyMap<string, string>;
  helpers: ReadonlyMap<string, Helper>;
}

function call(node: ts.CallExpression, scope: Scope, loose: boolean): string | undefined {
  const helper = ts.isIdentifier(node.expression) ? scope.helpers.get(node.expression.text) : undefined;
  if (helper === undefined) return undefined;
  const bound = new Map(scope.constants);
  helper.params.forEach((param, i) => {
    const arg = node.arguments[i] ?? param.initializer;
    const value = arg === undefined ? undefined : evaluate(arg, scope, loose);
    if (ts.isIdentifier(param.name)) bound.set(param.name.text, value ?? 'x');
  });
  return evaluate(helper.body, { ...scope, constants: bound }, loose);
}

/** A string expression's value, or undefined when it is not made of literals, known constants and helpers. */
function evaluate(node: ts.Node, scope: Scope, loose: boolean): string | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isParenthesizedExpression(node)) return evaluate(node.expression, scope, loose);
  if (ts.isIdentifier(node)) return scope.constants.get(node.text);
  if (ts.isCallExpression(node)) return call(node, scope, loose);
  if (ts.isTemplateExpression(node)) {
    let text = node.head.text;
    for (const span of node.templateSpans) {
      const value = evaluate(span.expression, scope, false);
      if (value === undefined && !loose) return undefined;
      text += (value ?? 'x') + span.literal.text;
    }
    return text;
  }
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    const left = evaluate(node.left, scope, loose);
    const right = evaluate(node.right, scope, loose);
    return left === undefined || right === undefined ? undefined : left + right;
  }
  return undefined;
}

function parse(root: string, path: string): ts.SourceFile {
  return ts.createSourceFile(path, readFileSync(join(root, path), 'utf8'), ts.ScriptTarget.Latest, true);
}

/** The body of a function whose only statement returns an expression. */
function returned(body: ts.ConciseBody | undefined): ts.Expression | undefined {
  if (body === undefined) return undefined;
  if (!ts.isBlock(body)) return body;
  const [only] = body.statements;
  return body.statements.length === 1 && only !== undefined && ts.isReturnStatement(only) ? only.expression : undefined;
}

/** Top-level `const NAME = <string>` and string helpers of the files, exported or not (WEBHOOK, COMMANDS, webhook()…). */
function scopeOf(files: readonly ts.SourceFile[]): Scope {
  const constants = new Map<string, string>();
  const helpers = new Map<string, Helper>();
  const scope = { constants, helpers };
  for (const file of files) {
    for (const statement of file.statements) {
      const body = ts.isFunctionDeclaration(statement) ? returned(statement.body) : undefined;
      if (ts.isFunctionDeclaration(statement) && statement.name !== undefined && body !== undefined) helpers.set(statement.name.text, { params: statement.parameters, body });
      if (!ts.isVariableStatement(statement)) continue;
      for (const declaration of statement.declarationList.declarations) {
        const init = declaration.initializer;
        if (!ts.isIdentifier(declaration.name) || init === undefined) continue;
        const arrowBody = ts.isArrowFunction(init) ? returned(init.body) : undefined;
        if (ts.isArrowFunction(init) && arrowBody !== undefined) helpers.set(declaration.name.text, { params: init.parameters, body: arrowBody });
        const value = evaluate(init, scope, false);
        if (value !== undefined) constants.set(declaration.name.text, value);
      }
    }
  }
  return scope;
}

/** The largest string expressions of a file that look like deployment files. */
function inlineFiles(file: ts.SourceFile, scope: Scope): DeployFile[] {
  const found: DeployFile[] = [];
  const visit = (node: ts.Node): void => {
    const isString = ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateExpression(node) || ts.isBinaryExpression(node);
    const value = isString ? evaluate(node, scope, true) : undefined;
    if (value !== undefined && /^\s*targets:/m.test(value)) {
      const line = file.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      // The e2e harness points EXTERNAL at its simulated external system.
      found.push({ source: `${file.fileName}:${line}`, text: dedent(value).replaceAll('EXTERNAL', 'http://127.0.0.1:9') });
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** Every deployment file of the repository at `root`. */
export function deployFiles(root: string): DeployFile[] {
  const files: DeployFile[] = FILE_SOURCES.flatMap((dir) => filesUnder(root, dir, (name) => /\.ya?ml$/.test(name)))
    .map((path) => ({ source: path, text: readFileSync(join(root, path), 'utf8') }))
    .filter((file) => /^targets:/m.test(file.text));
  for (const dir of INLINE_SOURCES) {
    const sources = filesUnder(root, dir, (name) => name.endsWith('.ts')).map((path) => parse(root, path));
    const scope = scopeOf(sources);
    for (const source of sources) files.push(...inlineFiles(source, scope));
  }
  return files;
}
