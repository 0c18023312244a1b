-- A build directory outside the source tree gives a cnnlua that finds the
-- Lua half of cnn from any working directory.
describe("a cnnlua built outside the source tree", function()
  local dir

  local function run(cmd)
    local p = io.popen(cmd .. " 2>&1")
    local out = p:read("a")
    local ok, _, code = p:close()
    return out, ok and 0 or code
  end

  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    -- The compiler must not inherit the sanitized suite's ASan preload.
    local out, code = run(("env -u LD_PRELOAD cmake -S . -B %q/build -DCMAKE_BUILD_TYPE=Release && "
      .. "env -u LD_PRELOAD cmake --build %q/build --target cnnlua -j2"):format(dir, dir))
    assert(code == 0, out)
  end)

  teardown(function()
    run(("rm -rf %q"):format(dir))
  end)

  it("runs cnn code from the root folder", function()
    local out, code = run(("cd / && %q/build/cnnlua -e 'print(cnn.ones(2):sum())'"):format(dir))
    assert.are.equal(0, code, out)
    assert.are.equal("2.0\n", out)
  end)

  it("finds the data that scripts/fetch-data put into its source tree", function()
    local out, code = run(("cd / && %q/build/cnnlua -e 'print(#cnn.datasets.MNIST.labels(\"test\"))'"):format(dir))
    assert.are.equal(0, code, out)
    assert.are.equal("10000\n", out)
  end)

  it("runs cnn code from its own build folder", function()
    local out, code = run(("cd %q/build && ./cnnlua -e 'print(cnn.ones(4):sum())'"):format(dir))
    assert.are.equal(0, code, out)
    assert.are.equal("4.0\n", out)
  end)
end)
