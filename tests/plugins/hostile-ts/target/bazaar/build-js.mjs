// Run by `bazaar plugin build` with Node: bundles a TypeScript or JavaScript plugin with
// esbuild and makes it a component with componentize-qjs (QuickJS, WASI stubbed), both from the
// toolchain cache. Its one argument is a JSON file of the job (see `host/src/cli/build/js.rs`).
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";

const job = JSON.parse(readFileSync(process.argv[2], "utf8"));
const require = createRequire(job.toolchain + "/package.json");
const esbuild = require("esbuild");
const { componentize } = require("componentize-qjs");

// Interfaces the manifest's scopes grant stay imports of the component; the others become a
// module whose functions throw `forbidden`, so the component never imports what it may not use.
const contract = {
  name: "bazaar-contract",
  setup(build) {
    build.onResolve({ filter: /^bazaar:platform\// }, (args) =>
      job.granted.includes(args.path)
        ? { path: args.path, external: true }
        : { path: args.path, namespace: "bazaar-ungranted" },
    );
    build.onLoad({ filter: /.*/, namespace: "bazaar-ungranted" }, (args) => {
      const stub = job.ungranted[args.path];
      if (!stub) {
        return { errors: [{ text: `${args.path} is not an interface of ${job.contract}` }] };
      }
      const refusal = JSON.stringify({ payload: { tag: "forbidden", val: stub.message } });
      // `function stub0() {...}` exported by name: a WIT name may be a JS keyword (`delete`).
      const bodies = stub.functions.map((_, i) => `function stub${i}() { throw ${refusal}; }`);
      const names = stub.functions.map((name, i) => `stub${i} as ${name}`);
      return { contents: `${bodies.join("\n")}\nexport { ${names.join(", ")} };\n`, loader: "js" };
    });
  },
};

const bundled = await esbuild.build({
  entryPoints: [job.entry],
  bundle: true,
  write: false,
  format: "esm",
  platform: "neutral",
  target: "es2023",
  alias: { "bazaar-sdk": job.sdk },
  plugins: [contract],
  logLevel: "silent",
}).catch((e) => {
  for (const error of e.errors ?? []) {
    const at = error.location ? `${error.location.file}:${error.location.line}:${error.location.column}: ` : "";
    console.error(`${at}${error.text}`);
  }
  process.exit(2);
});
const source = bundled.outputFiles[0].text;
mkdirSync(dirname(job.bundle), { recursive: true });
writeFileSync(job.bundle, source);

const { component } = await componentize({
  witPath: job.wit,
  world: job.world,
  jsSource: source,
  jsPath: job.bundle,
  stubWasi: true,
  sync: true,
});
writeFileSync(job.output, component);
