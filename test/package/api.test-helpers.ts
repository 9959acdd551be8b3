/**
 * The public API of a package entry as text: every export with its kind and its type, read
 * with the TypeScript checker from the entry's sources (the `@stipend/source` condition), so a
 * changed name OR a changed type shows in the snapshot of `exports.test.ts`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/** One public entry: `@stipend/client/x402` and the source file it resolves to. */
export interface Entry {
  readonly name: string;
  readonly source: string;
}

/** Every entry of a package, from its package.json `exports` (`./package.json` aside). */
export function entriesOf(packagesDir: string, folder: string): Entry[] {
  const dir = join(packagesDir, folder);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    name: string;
    exports?: Record<string, string | Record<string, string>>;
  };
  return Object.entries(manifest.exports ?? {})
    .filter(([subpath]) => subpath !== './package.json')
    .map(([subpath, target]) => {
      const source = typeof target === 'string' ? target : target['@stipend/source'];
      if (!source) throw new Error(`${manifest.name} ${subpath} has no @stipend/source condition`);
      return {
        name: subpath === '.' ? manifest.name : `${manifest.name}${subpath.slice(1)}`,
        source: join(dir, source),
      };
    });
}

const FLAGS =
  ts.TypeFormatFlags.NoTruncation |
  ts.TypeFormatFlags.UseSingleQuotesForStringLiteralType |
  ts.TypeFormatFlags.WriteArrayAsGenericType;

/** A checker over the given entries, resolved the way the workspace resolves them. */
export function apiReader(sources: readonly string[], root: string) {
  const config = ts.readConfigFile(join(root, 'tsconfig.base.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  const program = ts.createProgram([...sources], {
    ...options,
    noEmit: true,
    declaration: false,
    declarationMap: false,
    sourceMap: false,
    types: ['node'],
  });
  const checker = program.getTypeChecker();

  /** A type as written where it is used: named types and aliases by name. */
  const typeText = (type: ts.Type, at?: ts.Node) => checker.typeToString(type, at, FLAGS);
  /** The body of a type alias, one level expanded (`type X = 'a' | 'b'`). */
  const aliasText = (type: ts.Type, at?: ts.Node) =>
    checker.typeToString(type, at, FLAGS | ts.TypeFormatFlags.InTypeAlias);

  const members = (type: ts.Type, at: ts.Node | undefined): string[] => {
    const lines: string[] = [];
    for (const signature of type.getCallSignatures())
      lines.push(`  ${checker.signatureToString(signature, at, FLAGS)};`);
    for (const signature of type.getConstructSignatures())
      lines.push(`  new ${checker.signatureToString(signature, at, FLAGS)};`);
    for (const info of checker.getIndexInfosOfType(type))
      lines.push(
        `  ${info.isReadonly ? 'readonly ' : ''}[key: ${typeText(info.keyType)}]: ${typeText(info.type, at)};`,
      );
    for (const property of checker.getPropertiesOfType(type)) {
      if (property.name.startsWith('__@') || property.name.startsWith('#')) continue;
      const declaration = property.valueDeclaration ?? property.declarations?.[0];
      if (
        declaration &&
        ts.getCombinedModifierFlags(declaration as ts.Declaration) &
          (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)
      )
        continue;
      const optional = property.flags & ts.SymbolFlags.Optional ? '?' : '';
      const readonly =
        declaration &&
        ts.getCombinedModifierFlags(declaration as ts.Declaration) & ts.ModifierFlags.Readonly
          ? 'readonly '
          : '';
      const propertyType = checker.getTypeOfSymbolAtLocation(property, at ?? declaration!);
      lines.push(`  ${readonly}${property.name}${optional}: ${typeText(propertyType, at)};`);
    }
    return lines;
  };

  /**
   * Long unions that are exported type aliases (`StipendErrorCode`…), by their expanded text:
   * where the checker expands one in a member's type, the alias name is printed instead, so
   * a new member of the union changes the alias line only.
   */
  const aliases = new Map<string, string>();
  for (const source of sources) {
    const file = program.getSourceFile(source);
    const moduleSymbol = file && checker.getSymbolAtLocation(file);
    if (!moduleSymbol) continue;
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol =
        exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      if (!(symbol.flags & ts.SymbolFlags.TypeAlias)) continue;
      const body = aliasText(checker.getDeclaredTypeOfSymbol(symbol));
      if (body.length > 60 && body.includes(' | ') && !aliases.has(body))
        aliases.set(body, exported.name);
    }
  }
  const byLength = () => [...aliases].sort((x, y) => y[0].length - x[0].length);
  const named = (line: string) => {
    if (line.startsWith('type ')) return line;
    let text = line;
    for (const [body, name] of byLength()) text = text.replaceAll(body, name);
    return text;
  };

  /** The API text of one entry: one block per export, sorted by name. */
  return function apiOf(source: string): string {
    const file = program.getSourceFile(source);
    if (!file) throw new Error(`${source} is not in the program`);
    const moduleSymbol = checker.getSymbolAtLocation(file);
    if (!moduleSymbol) return '(no exports)';
    const blocks: string[] = [];
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol =
        exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const name = exported.name;
      const declaration = symbol.valueDeclaration ?? symbol.declarations?.[0];
      const flags = symbol.flags;
      const parts: string[] = [];
      if (flags & ts.SymbolFlags.Class) {
        const instance = checker.getDeclaredTypeOfSymbol(symbol);
        const statics = checker.getTypeOfSymbolAtLocation(symbol, declaration!);
        parts.push(
          `class ${name} {`,
          ...members(statics, declaration).filter((l) => l.startsWith('  new ')),
          ...members(instance, declaration),
          '}',
        );
      } else if (flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Variable)) {
        const type = checker.getTypeOfSymbolAtLocation(symbol, declaration!);
        const kind = flags & ts.SymbolFlags.Function ? 'function' : 'const';
        if (kind === 'function') {
          for (const signature of type.getCallSignatures())
            parts.push(
              `function ${name}${checker.signatureToString(signature, declaration, FLAGS)};`,
            );
        } else {
          parts.push(`const ${name}: ${typeText(type, declaration)};`);
        }
      }
      if (flags & ts.SymbolFlags.Interface) {
        const type = checker.getDeclaredTypeOfSymbol(symbol);
        parts.push(`interface ${typeText(type)} {`, ...members(type, declaration), '}');
      } else if (flags & ts.SymbolFlags.TypeAlias) {
        const type = checker.getDeclaredTypeOfSymbol(symbol);
        const params = checker.getDeclaredTypeOfSymbol(symbol).aliasTypeArguments;
        const generic = params?.length ? `<${params.map((p) => typeText(p)).join(', ')}>` : '';
        parts.push(`type ${name}${generic} = ${aliasText(type, declaration)};`);
      }
      if (parts.length === 0) parts.push(`${name}: (kind ${ts.SymbolFlags[flags] ?? flags})`);
      blocks.push(parts.map(named).join('\n'));
    }
    // Types from elsewhere print as `import("<absolute path>")`: keep the text machine-free.
    return blocks
      .sort()
      .join('\n')
      .replaceAll(`${root.replace(/\/$/, '')}/`, '');
  };
}
