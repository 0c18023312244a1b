-- cnn.profile: the rows and counts of a training step of a tiny conv net
-- (no timing assertions: only that times are numbers that add up).
local cnn = require "cnn"
local core = cnn.core

local function tiny_net()
  cnn.seed(2)
  local model = cnn.Chain(cnn.Conv({3, 3}, 1, 16, cnn.relu, {pad = 1}), cnn.MaxPool({2, 2}),
                          cnn.flatten, cnn.Dense(4 * 4 * 16, 10), cnn.softmax)
  local x = core.rand(8, 8, 1, 4)
  local y = cnn.onehotbatch({0, 1, 2, 3}, cnn.range(0, 9))
  local ps = cnn.params(model)
  local function step()
    return cnn.gradient(function() return cnn.crossentropy(model(x), y) end, ps)
  end
  return step, ps
end

local function names(report)
  local list = {}
  for i, row in ipairs(report.rows) do list[i] = row.name end
  return list
end

local function executions(report, name)
  for _, row in ipairs(report.rows) do
    if row.name == name then return row.executions end
  end
end

describe("cnn.profile", function()
  it("reports each kind of primitive of a training step once per layer", function()
    local step = tiny_net()
    step() -- creates the primitives
    local report = cnn.profile_report(step)
    local expected = {"conv forward", "conv backward weights", "pooling forward",
                      "pooling backward", "eltwise backward", "reorder",
                      "inner product forward", "inner product backward data",
                      "inner product backward weights", "softmax forward", "softmax backward",
                      "Lua and other"}
    assert.are.same(expected, names(report))
    for _, name in ipairs(expected) do
      if name ~= "reorder" and name ~= "Lua and other" then
        assert.are.equal(1, executions(report, name), name)
      end
    end
    assert.are.equal(report.reorders, executions(report, "reorder"))
    assert.are.equal(0, report.primitives_created)
    assert.are.equal(10 + report.reorders, report.primitive_executions)
    assert.is_true(report.tensor_allocations > 0)
    assert.is_true(report.tensor_bytes_allocated >= 8 * 8 * 16 * 4 * 4)
    local sum = 0
    for _, row in ipairs(report.rows) do
      assert.is_true(row.seconds >= 0, row.name)
      sum = sum + row.seconds
    end
    assert.is_true(math.abs(sum - report.wall) <= 1e-9 + 1e-6 * report.wall)
  end)

  it("counts the primitives a first call creates", function()
    cnn.seed(4)
    local report = cnn.profile_report(function()
      -- a batch size no other spec uses, so that every primitive is new
      return cnn.conv2d(core.rand(8, 8, 1, 37), core.rand(3, 3, 1, 16), nil, {pad = 1})
    end)
    assert.are.equal(1, executions(report, "conv forward"))
    assert.is_true(report.primitives_created >= 1)
  end)

  it("prints the table and returns f's results", function()
    local printed = {}
    local real_print = print
    _G.print = function(s) printed[#printed + 1] = s end
    local ok, a, b, c = pcall(cnn.profile, function(x, y) return x + y, nil, "c" end, 1, 2)
    _G.print = real_print
    assert.is_true(ok)
    assert.are.same({3, nil, "c"}, {a, b, c})
    assert.are.equal(1, #printed)
    local lines = {}
    for line in printed[1]:gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.matches("^profile%s+ms%s+share%s+executions$", lines[1])
    assert.matches("^Lua and other%s+[%d.]+%s+[%d.]+%%%s*$", lines[2])
    assert.matches("^wall%s+[%d.]+%s+100.0%%$", lines[3])
    assert.matches("^primitive executions 0, reorders 0, tensor allocations 0 %(0.0 MB%), "
                   .. "memory from the system 0 %(0.0 MB%), primitives created 0$", lines[4])
  end)

  it("times only while profiling, and stops after an error", function()
    assert.is_false(core.profiling())
    assert.has_error(function() cnn.profile(function() error("inside", 0) end) end, "inside")
    assert.is_false(core.profiling())
    local before = core.stats().kinds
    core.conv2d(core.rand(8, 8, 1, 4), core.rand(3, 3, 1, 16), nil, {pad = 1})
    local after = core.stats().kinds
    assert.are.equal("conv forward", after[1].name)
    assert.are.equal(before[1].seconds, after[1].seconds)
    assert.are.equal(before[1].executions, after[1].executions)
    assert.has_error(function() cnn.profile(42) end, "profile: f must be a function")
  end)
end)
