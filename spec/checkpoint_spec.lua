--- cnn.savemodel and cnn.loadmodel: round trips, what they refuse, and how
-- a save replaces a file (atomically, same bytes for the same state,
-- permissions kept, no temporary file left). Malformed files are in
-- checkpoint_malformed_spec.lua.
local cnn = require "cnn"
local helpers = require "helpers"

local CNNLUA = os.getenv("CNNLUA") or "./build/cnnlua"

local function model()
  return cnn.Chain(cnn.Conv({3, 3}, 1, 4, cnn.relu, {pad = 1}), cnn.BatchNorm(4),
                   cnn.MaxPool({2, 2}), cnn.flatten, cnn.Dense(4 * 4 * 4, 3))
end

local tmpfile = helpers.tmpfile

describe("savemodel and loadmodel", function()
  it("round-trip parameters and running statistics", function()
    local path = tmpfile()
    local a, b = model(), model()
    cnn.trainmode(a)
    a(cnn.rand(8, 8, 1, 5)) -- moves BatchNorm's running statistics
    cnn.savemodel(path, a)
    local sa, sb = cnn.params(a), cnn.params(b)
    assert.is_false(sa[1] == sb[1])
    assert.are.equal(b, cnn.loadmodel(path, b))
    for i = 1, #sa do assert.is_true(sa[i] == sb[i]) end
    assert.is_true(a[2].running_mean == b[2].running_mean)
    assert.is_true(a[2].running_var == b[2].running_var)
    local x = cnn.rand(8, 8, 1, 2)
    cnn.testmode(a); cnn.testmode(b)
    assert.is_true(a(x) == b(x))
    os.remove(path)
  end)

  it("refuses another architecture and leaves the model untouched", function()
    local path = tmpfile()
    cnn.savemodel(path, model())
    local other = cnn.Chain(cnn.Conv({3, 3}, 1, 4, cnn.relu, {pad = 1}), cnn.BatchNorm(4),
                            cnn.MaxPool({2, 2}), cnn.flatten, cnn.Dense(4 * 4 * 4, 5))
    local before = cnn.params(other)[5]:clone()
    assert.has_error(function() cnn.loadmodel(path, other) end,
      ("loadmodel: tensor 5 is 5×64 in the model but 3×64 in %s"):format(path))
    assert.is_true(before == cnn.params(other)[5])
    local fewer = cnn.Chain(cnn.Dense(2, 2))
    assert.has_error(function() cnn.loadmodel(path, fewer) end,
      ("loadmodel: %s holds 8 tensors, the model has 2"):format(path))
    os.remove(path)
  end)

  it("reports a missing file", function()
    assert.equal("loadmodel: /nonexistent/m.safetensors: No such file or directory",
      helpers.error_message(cnn.loadmodel, "/nonexistent/m.safetensors", model()))
  end)

  it("refuses what is not a model, before reading the file", function()
    local function refusal(value)
      return helpers.error_message(cnn.loadmodel, "/nonexistent/m.safetensors", value)
    end
    assert.equal("loadmodel: expected a model (a layer or Chain with parameters), got nil", refusal(nil))
    assert.equal("loadmodel: expected a model (a layer or Chain with parameters), got ADAM(0.001, "
      .. "(0.9, 0.999)), which has no parameters", refusal(cnn.ADAM()))
  end)

  it("checks its options", function()
    local path = tmpfile()
    cnn.savemodel(path, model())
    assert.equal("loadmodel: unknown option finit (the option is finite)",
      helpers.error_message(cnn.loadmodel, path, model(), {finit = false}))
    assert.equal("loadmodel: finite must be true or false, got the number 0",
      helpers.error_message(cnn.loadmodel, path, model(), {finite = 0}))
    assert.equal("loadmodel: options must be a table such as {finite = false}, got the string \"no\"",
      helpers.error_message(cnn.loadmodel, path, model(), "no"))
    os.remove(path)
  end)
end)

describe("savemodel", function()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  teardown(function() os.execute("rm -rf " .. dir) end)

  local function read(path)
    local f = io.open(path, "rb")
    if not f then return nil end
    local s = f:read("a")
    f:close()
    return s
  end

  local function shell(command)
    local p = io.popen(command .. " 2>&1; echo \"<rc=$?>\"")
    local out = p:read("a")
    p:close()
    local text, rc = out:match("^(.-)<rc=(%d+)>\n$")
    return text, tonumber(rc)
  end

  local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

  --- The names in `dir` that contain ".tmp.", sorted.
  local function temp_files()
    local names = {}
    for name in shell("ls -a " .. quote(dir)):gmatch("[^\n]+") do
      if name:find(".tmp.", 1, true) then names[#names + 1] = name end
    end
    table.sort(names)
    return names
  end

  local function mode(path) return (shell("stat -c %a " .. quote(path))):match("%d+") end

  --- Runs `code` in a new cnnlua under `sh` after the shell line `setup`.
  local function cnnlua(setup, code)
    return shell(("(%s; exec %s -e %s)"):format(setup, quote(CNNLUA), quote(code)))
  end

  it("refuses what is not a model and leaves the old file as it was", function()
    local path = dir .. "/keep.safetensors"
    cnn.savemodel(path, model())
    local before = read(path)
    local prefix = "savemodel: expected a model (a layer or Chain with parameters), got "
    local cases = {
      {nil, "nil"}, {42, "the number 42"}, {"m", 'the string "m"'},
      {cnn.ADAM(), "ADAM(0.001, (0.9, 0.999)), which has no parameters"},
      {{}, "a table, which has no parameters"},
      {cnn.Chain(cnn.flatten), "Chain(flatten), which has no parameters"},
      {cnn.ones(2, 3), "a tensor (2×3)"},
    }
    for _, case in ipairs(cases) do
      assert.equal(prefix .. case[2], helpers.error_message(cnn.savemodel, path, case[1]))
      assert.equal(before, read(path))
    end
    assert.same({}, temp_files())
  end)

  it("refuses bad paths, naming itself and the problem", function()
    local m = model()
    assert.equal("savemodel: path is empty", helpers.error_message(cnn.savemodel, "", m))
    assert.equal("savemodel: path must be a string, got nil", helpers.error_message(cnn.savemodel, nil, m))
    assert.equal('savemodel: path "a\\0b" contains a NUL byte', helpers.error_message(cnn.savemodel, "a\0b", m))
    assert.equal("savemodel: " .. dir .. " is a directory", helpers.error_message(cnn.savemodel, dir, m))
    assert.equal(("savemodel: %s/no/m.st: cannot create a file in %s/no: No such file or directory"):format(dir, dir),
      helpers.error_message(cnn.savemodel, dir .. "/no/m.st", m))
    assert.same({}, temp_files())
  end)

  it("refuses a model with a freed tensor and writes nothing", function()
    local m = model()
    cnn.params(m)[3]:free()
    assert.equal("savemodel: the model's tensor 3 was freed",
      helpers.error_message(cnn.savemodel, dir .. "/freed.st", m))
    assert.is_nil(read(dir .. "/freed.st"))
  end)

  it("writes the same bytes for the same state, metadata keys sorted", function()
    local m = model()
    cnn.savemodel(dir .. "/a.st", m)
    cnn.savemodel(dir .. "/b.st", m)
    local a = read(dir .. "/a.st")
    assert.equal(a, read(dir .. "/b.st"))
    local n = string.unpack("<I8", a)
    local header = a:sub(9, 8 + n)
    assert.equal('{"__metadata__":{"format":"cnnlua model state","model":"Chain(\\n',
      header:sub(1, #'{"__metadata__":{"format":"cnnlua model state","model":"Chain(\\n'))
    local names = {}
    for name in header:gmatch('"(state%.%d+)"') do names[#names + 1] = name end
    local sorted = {table.unpack(names)}
    table.sort(sorted)
    assert.equal(8, #names)
    assert.same(sorted, names)
  end)

  it("keeps the permissions of the file it replaces; a new file gets the umask's", function()
    local path = dir .. "/mode.st"
    local text, rc = cnnlua("umask 027", ("cnn.savemodel(%q, cnn.Dense(2, 3))"):format(path))
    assert.equal(0, rc, text)
    assert.equal("640", mode(path))
    os.remove(path)
    cnnlua("umask 022", ("cnn.savemodel(%q, cnn.Dense(2, 3))"):format(path))
    assert.equal("644", mode(path))
    shell("chmod 604 " .. quote(path))
    cnnlua("umask 077", ("cnn.savemodel(%q, cnn.Dense(2, 3))"):format(path))
    assert.equal("604", mode(path))
  end)

  it("removes the temporary files that a killed save of the same file left", function()
    local path = dir .. "/killed.st"
    for _, suffix in ipairs({".tmp.AbC123", ".tmp.x9Y8z7", ".tmp.keep"}) do
      helpers.write_bytes(path .. suffix, string.rep("x", 1000))
    end
    helpers.write_bytes(dir .. "/other.st.tmp.AbC123", "x")
    cnn.savemodel(path, model())
    assert.same({"killed.st.tmp.keep", "other.st.tmp.AbC123"}, temp_files())
    os.remove(path .. ".tmp.keep")
    os.remove(dir .. "/other.st.tmp.AbC123")
  end)

  it("stopped midway by a full disk leaves the old file and no temporary file", function()
    local path = dir .. "/full.st"
    cnn.savemodel(path, cnn.Dense(2, 3))
    local before = read(path)
    -- a 16 KiB model under a 4 KiB file size limit: the write fails with EFBIG
    local text, rc = cnnlua("ulimit -f 8; trap '' XFSZ", ("cnn.savemodel(%q, cnn.Dense(64, 64))"):format(path))
    assert.equal(1, rc)
    assert.matches("savemodel: " .. path:gsub("%p", "%%%0") .. ": write error: File too large", text)
    assert.equal(before, read(path))
    assert.same({}, temp_files())
  end)
end)
