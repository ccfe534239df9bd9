// Fails when a hand-written source silences the type checker: `x as T` (`as const` too),
// `<T>x`, `x!`, `any`, or a `@ts-ignore` / `@ts-expect-error` / `@ts-nocheck` comment.
// tsc accepts all of them; the point of the client is that the schema's types need none.
import { readFileSync } from "node:fs";
import ts from "typescript";

const found = [];
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const report = (pos, what) => {
    const { line, character } = source.getLineAndCharacterOfPosition(pos);
    found.push(`${file}:${line + 1}:${character + 1}: ${what}`);
  };
  const visit = (node) => {
    if (ts.isAsExpression(node)) report(node.getStart(), `cast: ${node.getText()}`);
    else if (ts.isTypeAssertionExpression(node)) report(node.getStart(), `cast: ${node.getText()}`);
    else if (ts.isNonNullExpression(node)) report(node.getStart(), `non-null assertion: ${node.getText()}`);
    else if (node.kind === ts.SyntaxKind.AnyKeyword) report(node.getStart(), "any");
    ts.forEachChild(node, visit);
  };
  visit(source);
  for (const match of text.matchAll(/@ts-(ignore|expect-error|nocheck)/g)) {
    report(match.index, `@ts-${match[1]} comment`);
  }
}
if (found.length > 0) {
  console.error(found.join("\n"));
  process.exit(1);
}
console.log(`    ${process.argv.length - 2} file(s): none`);
