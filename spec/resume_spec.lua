--- cnn.savecheckpoint and cnn.loadcheckpoint: a training stopped, saved
-- and resumed in a new process ends bit for bit as the uninterrupted one;
-- what a load checks, before it changes anything.
local cnn = require "cnn"
local helpers = require "helpers"

local CNNLUA = os.getenv("CNNLUA") or "./build/cnnlua"

local quote = helpers.quote
local tmpdir = helpers.tmpdir
local tmpfile = helpers.tmpfile

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  return text
end

-- Runs the training fixture in a new process, at one thread.
local function child(mode, dir)
  local cmd = ("OMP_NUM_THREADS=1 %s spec/fixtures/resume_training.lua %s %s 2>&1"):format(
    quote(CNNLUA), mode, quote(dir))
  local p = io.popen(cmd)
  local out = p:read("a")
  local ok = p:close()
  assert(ok, mode .. " failed: " .. out)
end

describe("a checkpointed training", function()
  it("resumed in a new process ends with the parameters of the uninterrupted one", function()
    local dir = tmpdir()
    child("full", dir)
    child("first", dir)
    child("second", dir)
    child("reseed", dir)
    local full, resumed = read_file(dir .. "/full.safetensors"), read_file(dir .. "/resumed.safetensors")
    assert.are.equal(full, resumed)
    -- the same files from the tensors, bit for bit
    local a, b = cnn.core.load_safetensors(dir .. "/full.safetensors"), cnn.core.load_safetensors(
      dir .. "/resumed.safetensors")
    for name, t in pairs(a) do assert.is_true(cnn.core.isapprox(t, b[name], 0, 0), name) end
    -- the comparison can fail: the random generator matters (dropout, shuffles)
    assert.are_not.equal(full, read_file(dir .. "/reseeded.safetensors"))
    os.execute("rm -rf " .. quote(dir))
  end)
end)

local function small()
  cnn.seed(5)
  local m = cnn.Chain(cnn.Dense(3, 4, cnn.relu), cnn.BatchNorm(4), cnn.Dense(4, 2))
  local loader = cnn.DataLoader(cnn.rand(3, 10), cnn.rand(2, 10), {batchsize = 4, shuffle = true})
  return m, loader
end

local function trained(opt)
  local m, loader = small()
  local function loss(a, b) return cnn.mse(m(a), b) end
  cnn.train(loss, cnn.params(m), loader, opt, {progress = false, cb = function(info)
    if info.step == 2 then cnn.stop() end
  end})
  return m, loader
end

-- A copy of every tensor of the model, the optimiser's state and the
-- generator's state, to check a failed load changed nothing.
local function snapshot(m, opt)
  local s = {rng = {cnn.core.rngstate()}, params = {}, opt = {}}
  for i, p in ipairs(cnn.params(m)) do
    s.params[i] = cnn.core.clone(p)
    local st = opt.state[p]
    s.opt[i] = st and st.t
  end
  s.running = cnn.core.clone(m[2].running_mean)
  return s
end

local function assert_unchanged(m, opt, s)
  assert.are.same(s.rng, {cnn.core.rngstate()})
  for i, p in ipairs(cnn.params(m)) do
    assert.is_true(cnn.core.isapprox(p, s.params[i], 0, 0))
    local st = opt.state[p]
    assert.are.equal(s.opt[i], st and st.t)
  end
  assert.is_true(cnn.core.isapprox(m[2].running_mean, s.running, 0, 0))
end

describe("savecheckpoint and loadcheckpoint", function()
  it("restore the model, the optimiser's state and hyperparameters, the generator and the loader", function()
    local path = tmpfile()
    local opt = cnn.Momentum(0.05, 0.8)
    local m, loader = trained(opt)
    opt.eta = 0.02
    cnn.savecheckpoint(path, {model = m, opt = opt, loader = loader, step = 2, note = "warm", lr = 0.02,
      done = false})
    local rng = {cnn.core.rngstate()}
    local xb = loader(nil, true) -- the third batch of the pass, as a loop goes on
    local m2, loader2 = small()
    local opt2 = cnn.Momentum()
    cnn.seed(99)
    local user = cnn.loadcheckpoint(path, {model = m2, opt = opt2, loader = loader2})
    assert.are.same({step = 2, note = "warm", lr = 0.02, done = false}, user)
    assert.are.equal(math.type(user.step), "integer")
    assert.are.same(rng, {cnn.core.rngstate()})
    assert.are.equal(0.02, opt2.eta)
    assert.are.equal(0.8, opt2.rho)
    local ps, ps2 = cnn.params(m), cnn.params(m2)
    for i = 1, #ps do
      assert.is_true(cnn.core.isapprox(ps[i], ps2[i], 0, 0))
      assert.is_true(cnn.core.isapprox(opt.state[ps[i]].v, opt2.state[ps2[i]].v, 0, 0))
    end
    assert.is_true(cnn.core.isapprox(m[2].running_var, m2[2].running_var, 0, 0))
    -- the loader continues its pass: the same third batch
    assert.is_true(cnn.core.isapprox(xb, loader2(), 0, 0))
    os.remove(path)
  end)

  it("restore the state of every kind of optimiser", function()
    for _, make in ipairs{cnn.Descent, cnn.Momentum, cnn.Nesterov, cnn.RMSProp, cnn.ADAM, cnn.AdamW} do
      local path = tmpfile()
      local opt = make()
      local m = trained(opt)
      cnn.savecheckpoint(path, {model = m, opt = opt})
      local m2, opt2 = small(), make()
      cnn.loadcheckpoint(path, {model = m2, opt = opt2})
      local ps, ps2 = cnn.params(m), cnn.params(m2)
      for i = 1, #ps do
        local s, s2 = opt.state[ps[i]] or {}, opt2.state[ps2[i]] or {}
        for k, v in pairs(s) do
          if type(v) == "number" then
            assert.are.equal(v, s2[k], tostring(opt) .. " " .. k)
          else
            assert.is_true(cnn.core.isapprox(v, s2[k], 0, 0), tostring(opt) .. " " .. k)
          end
        end
        for k in pairs(s2) do assert.is_not_nil(s[k]) end
      end
      os.remove(path)
    end
  end)

  it("go on with a loader's own seed", function()
    local path = tmpfile()
    local function make() return cnn.DataLoader(cnn.range(1, 10):reshape(1, 10), {batchsize = 3,
      shuffle = true, rng = 7}) end
    local m, loader = small(), make()
    for _ in loader do end
    loader() -- one batch into the second pass
    cnn.savecheckpoint(path, {model = m, loader = loader})
    local loader2 = make()
    cnn.loadcheckpoint(path, {model = small(), loader = loader2})
    local a, b = {}, {}
    for x in function(_, c) return loader(nil, c or true) end do a[#a + 1] = x:totable() end
    for x in loader2 do b[#b + 1] = x:totable() end
    assert.are.equal(3, #a)
    assert.are.same(a, b)
    local c, d = {}, {}
    for x in loader do c[#c + 1] = x:totable() end
    for x in loader2 do d[#d + 1] = x:totable() end
    assert.are.same(c, d)
    assert.are_not.same(a, c)
    os.remove(path)
  end)

  it("start the next pass when the saved one was over", function()
    local path = tmpfile()
    local m, loader = small()
    for _ in loader do end
    cnn.savecheckpoint(path, {model = m, loader = loader})
    local rng = {cnn.core.rngstate()}
    local first = cnn.core.clone(loader())
    local m2, loader2 = small()
    cnn.loadcheckpoint(path, {model = m2, loader = loader2})
    assert.are.same(rng, {cnn.core.rngstate()})
    assert.is_true(cnn.core.isapprox(first, loader2(), 0, 0))
    assert.are.equal(2, loader2.passes)
    os.remove(path)
  end)

  it("refuse what is not a model, an optimiser or a loader, and values they cannot keep", function()
    local describe_value = require("cnn.argcheck").describe
    local m = small()
    local path = tmpfile()
    assert.has_error(function() cnn.savecheckpoint(path, {opt = cnn.ADAM()}) end,
      "savecheckpoint: expected a model (a layer or Chain with parameters), got nil")
    assert.has_error(function() cnn.savecheckpoint(path, m) end,
      "savecheckpoint: the second argument must be a table such as {model = m, opt = opt, loader = loader}, got "
      .. describe_value(m))
    assert.has_error(function() cnn.savecheckpoint(path, {model = m, opt = m}) end,
      "savecheckpoint: opt must be an optimiser such as cnn.ADAM(), got " .. describe_value(m))
    assert.has_error(function() cnn.savecheckpoint(path, {model = m, loader = {}}) end,
      "savecheckpoint: loader must be a cnn.DataLoader, got " .. describe_value({}))
    assert.has_error(function() cnn.savecheckpoint(path, {model = m, step = {1}}) end,
      "savecheckpoint: step must be a number, a string or a boolean (model, opt and loader are the "
      .. "objects a checkpoint saves), got " .. describe_value({1}))
    assert.has_error(function() cnn.savecheckpoint(path, {model = m, [1] = 2}) end,
      "savecheckpoint: a field name must be a string, got 1")
    assert.has_error(function() cnn.savemodel(path, cnn.ADAM()) end)
    assert.is_nil(io.open(path))
  end)

  describe("a load", function()
    local path, m, loader, opt
    setup(function()
      path = tmpfile()
      opt = cnn.ADAM()
      m, loader = trained(opt)
      cnn.savecheckpoint(path, {model = m, opt = opt, loader = loader, step = 2})
    end)
    teardown(function() os.remove(path) end)

    -- Loads into fresh objects made by `make`, expecting `message`; the
    -- objects are unchanged afterwards.
    local function refused(message, make)
      local m2, loader2 = small()
      local opt2 = cnn.ADAM()
      trained(opt2) -- some state to keep
      local parts = {model = m2, opt = opt2, loader = loader2}
      if make then parts = make(parts) end
      local before = snapshot(parts.model, opt2)
      assert.has_error(function() cnn.loadcheckpoint(path, parts) end, message)
      assert_unchanged(parts.model, opt2, before)
    end

    it("refuses another architecture, naming the entry", function()
      refused("loadcheckpoint: " .. path .. ": entry model.1 is 4×3, expected 5×3", function(p)
        p.model = cnn.Chain(cnn.Dense(3, 5, cnn.relu), cnn.BatchNorm(5), cnn.Dense(5, 2))
        return p
      end)
    end)

    it("refuses another optimiser", function()
      refused("loadcheckpoint: " .. path .. ": entry opt holds the state of a ADAM, but opt is a Descent",
        function(p) p.opt = cnn.Descent(); return p end)
    end)

    it("refuses a missing or an extra part", function()
      refused("loadcheckpoint: " .. path .. " holds an optimiser's state; pass it as opt",
        function(p) p.opt = nil; return p end)
      refused("loadcheckpoint: " .. path .. " holds a loader's position; pass it as loader",
        function(p) p.loader = nil; return p end)
      refused("loadcheckpoint: unknown field \"step\" (valid fields: loader, model, opt)",
        function(p) p.step = 1; return p end)
    end)

    it("refuses a loader over other data or with other settings", function()
      refused("loadcheckpoint: " .. path .. ": entry loader.nobs is 10, but the loader's is 12",
        function(p) p.loader = cnn.DataLoader(cnn.rand(3, 12), {batchsize = 4, shuffle = true}); return p end)
      refused("loadcheckpoint: " .. path .. ": entry loader.batchsize is 4, but the loader's is 5",
        function(p) p.loader = cnn.DataLoader(cnn.rand(3, 10), {batchsize = 5, shuffle = true}); return p end)
    end)

    it("refuses a file that is not a checkpoint, or has entries no object takes", function()
      local other = tmpfile()
      cnn.savemodel(other, m)
      local m2 = small()
      assert.has_error(function() cnn.loadcheckpoint(other, {model = m2}) end,
        "loadcheckpoint: " .. other .. " is not a checkpoint (its format is \"cnnlua model state\"; "
        .. "cnn.loadmodel reads a model's state)")
      local tensors, meta = cnn.core.load_safetensors(path)
      tensors["extra"] = cnn.zeros(2)
      cnn.core.save_safetensors(other, tensors, meta)
      local opt2 = cnn.ADAM()
      local _, loader2 = small()
      local before = snapshot(m2, opt2)
      assert.has_error(function() cnn.loadcheckpoint(other, {model = m2, opt = opt2, loader = loader2}) end,
        "loadcheckpoint: " .. other .. ": entry extra is not part of a checkpoint of these objects")
      assert_unchanged(m2, opt2, before)
      tensors["extra"] = nil
      meta["opt.1.t"] = "i:x"
      cnn.core.save_safetensors(other, tensors, meta)
      assert.has_error(function() cnn.loadcheckpoint(other, {model = m2, opt = opt2, loader = loader2}) end,
        "loadcheckpoint: " .. other .. ": entry opt.1.t holds \"i:x\", which is not a stored value")
      assert_unchanged(m2, opt2, before)
      meta["opt.1.t"] = "i:2"
      local order = tensors["loader.order"]
      tensors["loader.order"] = cnn.tensor({1, 2, 3, 4, 5, 6, 7, 8, 9, 9}, "int32")
      cnn.core.save_safetensors(other, tensors, meta)
      assert.has_error(function() cnn.loadcheckpoint(other, {model = m2, opt = opt2, loader = loader2}) end,
        "loadcheckpoint: " .. other .. ": entry loader.order is not an order of 1..10 (its entry 10 is 9)")
      assert_unchanged(m2, opt2, before)
      tensors["loader.order"] = order
      meta["opt.1.t"] = "i:2"
      meta["opt.hyper.eta"] = "f:-0x1p+0"
      cnn.core.save_safetensors(other, tensors, meta)
      assert.has_error(function() cnn.loadcheckpoint(other, {model = m2, opt = opt2, loader = loader2}) end,
        "loadcheckpoint: entry opt.hyper.eta must be a non-negative number, got -1.0")
      assert_unchanged(m2, opt2, before)
      os.remove(other)
      assert.has_error(function() cnn.loadcheckpoint(other, {model = m2}) end)
    end)
  end)
end)
