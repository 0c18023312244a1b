-- A model that contains itself (m.layers[2] = m) is shown with <cycle>
-- and refused, naming the function and the cycle, by every walk of it:
-- params, trainmode, testmode, summary, outputsize, a call, and the
-- functions built on them. Each is run under an instruction budget, so a
-- walk that went round the cycle fails here instead of running forever.
local cnn = require "cnn"
local helpers = require "helpers"

--- f(...) with at most ten million Lua instructions, then an error.
local function bounded(f, ...)
  debug.sethook(function() error("still walking after 10M instructions", 2) end, "", 10000000)
  local r = table.pack(pcall(f, ...))
  debug.sethook()
  if not r[1] then error(r[2], 0) end
  return table.unpack(r, 2, r.n)
end

--- The message of the error f(...) raises within the budget.
local function refusal(f, ...)
  return helpers.error_message(bounded, f, ...)
end

local function self_containing()
  local m = cnn.Chain(cnn.Dense(2, 2), cnn.relu)
  m.layers[2] = m
  return m
end

describe("a Chain that contains itself", function()
  it("prints with <cycle> where it comes back, counting what it reaches", function()
    local m = self_containing()
    assert.are.equal(table.concat({
      "Chain(",
      "  Dense(2 => 2),  # 6 parameters",
      "  <cycle>,",
      ")                 # Total: 2 arrays, 6 parameters, 24 bytes.",
    }, "\n"), bounded(tostring, m))
  end)

  it("is refused by params, trainmode, testmode, summary and outputsize", function()
    local m = self_containing()
    for _, name in ipairs({"params", "trainmode", "testmode"}) do
      assert.are.equal(name .. ": the model contains itself: m[2] is m", refusal(cnn[name], m))
    end
    assert.are.equal("summary: the model contains itself: m[2] is m", refusal(cnn.summary, m, {2, 1}))
    assert.are.equal("outputsize: the model contains itself: m[2] is m",
      refusal(cnn.outputsize, m, {2, 1}))
    assert.are.equal("params: the model contains itself: m[2] is m", refusal(m.parameters, m))
  end)

  it("is refused when called, and by what walks it to evaluate or save it", function()
    local m = self_containing()
    local x = cnn.rand(2, 3)
    assert.are.equal("Chain: the model contains itself: m[2] is m", refusal(m, x))
    assert.are.equal("Chain: the model contains itself: m[2] is m",
      refusal(cnn.accuracy, m, x, {1, 2, 1}, {1, 2}))
    local path = os.tmpname()
    assert.are.equal("params: the model contains itself: m[2] is m", refusal(cnn.savemodel, path, m))
    os.remove(path)
  end)

  it("names a cycle deeper down by its path from the model", function()
    local inner = cnn.Chain(cnn.Dense(2, 2))
    local outer = cnn.Chain(cnn.Dense(2, 2), cnn.Chain(cnn.relu, inner))
    inner.layers[2] = outer[2]
    assert.are.equal("params: the model contains itself: m[2][2][2] is m[2]", refusal(cnn.params, outer))
    assert.matches("<cycle>", bounded(tostring, outer), 1, true)
  end)
end)

describe("a layer used twice", function()
  it("is no cycle: it works, prints, and its parameters count once", function()
    local shared = cnn.Dense(2, 2)
    local m = cnn.Chain(shared, cnn.Chain(shared), shared)
    assert.are.equal(2, #bounded(cnn.params, m))
    assert.are.same({2, 3}, bounded(m, cnn.rand(2, 3)):size())
    assert.is_nil(bounded(tostring, m):find("<cycle>", 1, true))
  end)
end)
