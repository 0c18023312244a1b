-- The documentation: every public name of `cnn` has an entry in the doc
-- comments (the source of the generated reference and of cnn.docs), with
-- its parameters named as the function names them, and an example.

local cnn = require "cnn"
local docs = require "cnn.docs"

-- The parameter names of a Lua function, and whether it takes `...`.
local function parameters(f)
  local info = debug.getinfo(f, "u")
  local names = {}
  for i = 1, info.nparams do names[i] = debug.getlocal(f, i) end
  return names, info.isvararg
end

-- Every public name: the fields of cnn, and of cnn.datasets and
-- cnn.distributed prefixed.
local function public_names()
  local names = {}
  for name, value in pairs(cnn) do names[#names + 1] = {name = name, value = value} end
  for _, part in ipairs{"datasets", "distributed"} do
    for name, value in pairs(cnn[part]) do
      names[#names + 1] = {name = part .. "." .. name, value = value}
    end
  end
  table.sort(names, function(a, b) return a.name < b.name end)
  return names
end

-- What is missing from the entry of a public name, or nil.
local function problem(name, value)
  local entry = docs.lookup(name) or docs.lookup(value)
  if not entry then return "no doc comment names it (@function or @table)" end
  if entry.summary == "" then return "the entry has no description" end
  if type(value) == "table" then return nil end
  if not entry.usage then return "the entry has no @usage example" end
  if debug.getinfo(value, "S").what ~= "Lua" then return nil end
  local names = parameters(value)
  for i, pname in ipairs(names) do
    local p = entry.params[i]
    if not p or p.name ~= pname then
      return ("@param %d is %s, the function's parameter is %s"):format(i, p and p.name or "missing", pname)
    end
  end
  return nil
end

-- What is missing from the entry of a method, or nil: an entry named
-- "Class:name" (or, for the methods every layer has, "Layer:name") with
-- a description and an example.
local function method_problem(names)
  local entries = docs.entries()
  local entry
  for _, n in ipairs(names) do entry = entry or entries[n] end
  if not entry then return "no doc comment names it (@function " .. names[1] .. ")" end
  if entry.summary == "" then return "the entry has no description" end
  if not entry.usage then return "the entry has no @usage example" end
  return nil
end

-- The method names of a layer: the functions its class gives it.
local function layer_methods(layer)
  local mt = getmetatable(layer)
  local found = {}
  if type(mt.__index) == "table" then
    for k, v in pairs(mt.__index) do
      if type(v) == "function" and not k:match("^__") then found[#found + 1] = k end
    end
  else -- a Chain looks its methods up in a function
    for _, k in ipairs{"forward", "run", "each_output", "children", "parameters", "check", "describe"} do
      if type(layer[k]) == "function" then found[#found + 1] = k end
    end
  end
  table.sort(found)
  return mt.name, found
end

-- One layer of each kind that cnn makes.
local function every_layer()
  return {
    cnn.Dense(2, 3), cnn.Conv({3, 3}, 1, 2), cnn.MaxPool(2), cnn.MeanPool(2),
    cnn.GlobalMaxPool(), cnn.GlobalMeanPool(), cnn.Dropout(0.5), cnn.BatchNorm(2),
    cnn.LayerNorm(2), cnn.GroupNorm(4, 2), cnn.InstanceNorm(2),
    cnn.Flatten(), cnn.Chain(cnn.Dense(2, 2)),
    cnn.SkipConnection(cnn.Dense(2, 2), function(a) return a end),
    cnn.Parallel(function(a) return a end, cnn.Dense(2, 2)),
  }
end

describe("the documentation", function()
  it("covers every public name with parameters and an example", function()
    local missing = {}
    for _, p in ipairs(public_names()) do
      local why = problem(p.name, p.value)
      if why then missing[#missing + 1] = ("cnn.%s: %s"):format(p.name, why) end
    end
    assert.are.equal("", table.concat(missing, "\n"))
  end)

  it("covers every tensor method with an example", function()
    local missing, n = {}, 0
    for name in pairs(cnn.Tensor.methods) do
      n = n + 1
      local why = method_problem({"Tensor:" .. name})
      if why then missing[#missing + 1] = ("t:%s: %s"):format(name, why) end
    end
    table.sort(missing)
    assert.are.equal("", table.concat(missing, "\n"))
    assert.is_true(n >= 60, "only " .. n .. " methods found")
  end)

  it("covers every method of every layer with an example", function()
    local missing, seen = {}, {}
    for _, layer in ipairs(every_layer()) do
      local class, names = layer_methods(layer)
      assert.is_true(#names >= 5, class .. ": only " .. #names .. " methods found")
      for _, name in ipairs(names) do
        local why = method_problem({class .. ":" .. name, "Layer:" .. name})
        if why and not seen[class .. name] then
          seen[class .. name] = true
          missing[#missing + 1] = ("%s:%s: %s"):format(class, name, why)
        end
      end
    end
    assert.are.equal("", table.concat(missing, "\n"))
  end)

  it("fails on an undocumented method", function()
    cnn.Tensor.methods.undocumented_for_this_spec = function(t) return t end
    local ok, e = pcall(function()
      assert.is_not_nil(method_problem({"Tensor:undocumented_for_this_spec"}))
      assert.is_nil(method_problem({"Tensor:size"}))
      assert.is_nil(method_problem({"Dense:parameters", "Layer:parameters"}))
    end)
    cnn.Tensor.methods.undocumented_for_this_spec = nil
    assert(ok, e)
  end)

  it("reads names, parameters, defaults, returns and examples from doc comments", function()
    local text = table.concat({
      "--- Scales a tensor.",
      "-- More text.",
      "-- @function scale",
      "-- @param x the tensor",
      "-- @param[opt=2] k the factor",
      "-- @return a new tensor",
      "-- @usage scale(cnn.ones(2))",
      "-- --> 2 2",
      "local function scale(x, k) return x * (k or 2) end",
      "--- Internal, without a public name.",
      "local y = 1",
    }, "\n")
    local entries = docs.parse(text, "here")
    assert.are.equal(1, #entries)
    local e = entries[1]
    assert.are.equal("scale", e.name)
    assert.are.equal("function", e.kind)
    assert.are.equal("Scales a tensor.", e.summary)
    assert.are.equal("Scales a tensor.\nMore text.", e.description)
    assert.are.same({"x", "k"}, {e.params[1].name, e.params[2].name})
    assert.are.same({false, true}, {e.params[1].optional, e.params[2].optional})
    assert.are.equal("2", e.params[2].default)
    assert.are.equal("the factor", e.params[2].text)
    assert.are.equal("a new tensor", e["return"][1].text)
    assert.are.equal("scale(cnn.ones(2))\n--> 2 2", e.usage[1].text)
    assert.are.equal("here", e.source)
  end)

  it("reads every module, also when asked before anything else is loaded", function()
    local host = os.getenv("CNNLUA") or "build/cnnlua"
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write('local n = 0 for _ in pairs(require("cnn.docs").entries()) do n = n + 1 end io.write(n)')
    f:close()
    local p = io.popen(("%s %s 2>&1"):format(host, script))
    local out = p:read("a")
    p:close()
    os.remove(script)
    local n = 0
    for _ in pairs(docs.entries()) do n = n + 1 end
    assert.are.equal(tostring(n), out)
  end)

  it("has examples that run, where they need nothing but cnn", function()
    -- Run in a child process, which the examples may change as they like;
    -- an example that uses a name it does not define (model, x) is left out.
    local runner = [[
      local cnn = require "cnn"
      local docs = require "cnn.docs"
      local ran, failed = 0, {}
      for name, e in pairs(docs.entries()) do
        for _, u in ipairs(e.usage or {}) do
          local env = setmetatable({cnn = cnn}, {__index = function(_, k)
            if _G[k] ~= nil then return _G[k] end
            error("undefined name " .. k, 2)
          end})
          local f, err = load((u.text:gsub("%-%->[^\n]*", "")), name, "t", env)
          local ok, e2 = false, err
          if f then ok, e2 = pcall(f) end
          if ok then ran = ran + 1
          elseif not tostring(e2):find("undefined name ") then failed[#failed + 1] = name .. ": " .. tostring(e2) end
        end
      end
      table.sort(failed)
      io.stderr:write(ran, "\n", table.concat(failed, "\n"))
    ]]
    local host = os.getenv("CNNLUA") or "build/cnnlua"
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write(runner)
    f:close()
    local p = io.popen(("%s %s 2>&1 >/dev/null"):format(host, script))
    local out = p:read("a")
    p:close()
    os.remove(script)
    local ran, failed = out:match("^(%d+)\n(.*)$")
    assert.are.equal("", failed, out)
    assert.is_true(tonumber(ran) >= 60, out)
  end)

  it("finds an entry by value under every name of the value", function()
    assert.are.equal(docs.lookup("Adam"), docs.lookup(cnn.ADAM))
    assert.is_nil(docs.lookup(function() end))
  end)
end)

describe("the specs", function()
  it("hold no pending guard, which would hide a regression behind a green run", function()
    local found = {}
    local guard = "pend" .. "ing%s*%("
    for file in io.popen("ls spec/*.lua"):lines() do
      local n = 0
      for line in io.lines(file) do
        n = n + 1
        if line:find(guard) then found[#found + 1] = file .. ":" .. n end
      end
    end
    assert.are.equal("", table.concat(found, "\n"))
  end)
end)
