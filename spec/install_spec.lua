-- `cmake --install` into a prefix, then stock lua5.4 and the installed
-- cnnlua find the library through that prefix alone.
describe("an installed cnnlua", function()
  local prefix

  local function run(cmd)
    local p = io.popen(cmd .. " 2>&1")
    local out = p:read("a")
    local ok, _, code = p:close()
    return out, ok and 0 or code
  end

  setup(function()
    prefix = os.tmpname()
    os.remove(prefix)
    local out, code = run(("cmake --install build --prefix %q"):format(prefix))
    assert(code == 0, out)
  end)

  teardown(function()
    run(("rm -rf %q"):format(prefix))
  end)

  it("is required by stock lua5.4 from the prefix's Lua paths", function()
    local env = ("cd / && LUA_PATH='%s/share/lua/5.4/?.lua;%s/share/lua/5.4/?/init.lua;;' "
      .. "LUA_CPATH='%s/lib/lua/5.4/?.so;;' "):format(prefix, prefix, prefix)
    local out, code = run(env .. [[lua5.4 -e 'print(require("cnn").ones(2):sum())']])
    assert.are.equal(0, code, out)
    assert.are.equal("2.0\n", out)
  end)

  it("runs its own host from bin/ with the modules under share/", function()
    local out, code = run(("cd / && %q/bin/cnnlua -e 'print(cnn.ones(3):sum())'"):format(prefix))
    assert.are.equal(0, code, out)
    assert.are.equal("3.0\n", out)
  end)
end)
