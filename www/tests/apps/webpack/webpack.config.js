// webpack 5's defaults; only the entry and the output folder are named. index.html is copied
// next to the bundle by the test.
export default { entry: "./src/index.js", output: { path: new URL("dist", import.meta.url).pathname, clean: true } };
