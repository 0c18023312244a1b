-- A gradient call that does not complete (an error, a coroutine that
-- yields inside f and is abandoned or closed, a yield that cannot leave)
-- leaves no tape behind: the next gradient works, and code running while a
-- gradient is suspended in a coroutine neither records nor sees it.
local cnn = require "cnn"
local helpers = require "helpers"

local x = cnn.tensor({1, 2, 3})
local function square_sum(v) return cnn.sum(v * v) end

local function assert_gradient_works()
  assert.is_false(cnn.isrecording())
  assert.are.same({2, 4, 6}, cnn.gradient(square_sum, x):totable())
end

--- A coroutine that calls gradient and yields inside f; the value it is
-- resumed with scales the result.
local function suspended_in_gradient()
  local co = coroutine.create(function()
    return cnn.gradient(function(v)
      local scale = coroutine.yield("inside f")
      return square_sum(v) * scale
    end, x)
  end)
  assert.are.same({true, "inside f"}, {coroutine.resume(co)})
  return co
end

describe("gradient state", function()
  it("is clean after a coroutine is abandoned inside gradient", function()
    local co = suspended_in_gradient()
    assert_gradient_works()
    assert.are.equal("suspended", coroutine.status(co))
    -- Drops the only reference, so the coroutine and its stack can go.
    co = nil -- luacheck: ignore 311
    collectgarbage()
    assert_gradient_works()
  end)

  it("is clean after a coroutine suspended inside gradient is closed", function()
    local co = suspended_in_gradient()
    assert.is_true(coroutine.close(co))
    assert_gradient_works()
  end)

  it("is clean after an error inside gradient, a string or an object", function()
    assert.are.equal("boom", helpers.error_message(cnn.gradient, function() error("boom") end, x))
    assert_gradient_works()
    local object = {}
    local ok, e = pcall(cnn.gradient, function() error(object) end, x)
    assert.is_false(ok)
    assert.are.equal(object, e)
    assert_gradient_works()
  end)

  it("is clean after f yields where no coroutine can take the yield", function()
    -- on the main thread
    local ok, e = pcall(cnn.gradient, function(v) coroutine.yield(); return square_sum(v) end, x)
    assert.is_false(ok)
    assert.matches("yield from outside a coroutine", e)
    assert_gradient_works()
    -- inside a coroutine, but under a C call that cannot yield (a sort comparator)
    local co = coroutine.wrap(function()
      local message
      table.sort({1, 2}, function()
        message = select(2, pcall(cnn.gradient, function(v) coroutine.yield(); return square_sum(v) end, x))
        return false
      end)
      return message
    end)
    assert.are.equal("gradient: f yielded where its caller cannot yield", co())
    assert_gradient_works()
  end)

  it("hides a suspended gradient from other code, which neither records nor sees it", function()
    local co = suspended_in_gradient()
    assert.is_false(cnn.isrecording())
    assert.is_false(cnn.istracked(x))
    local y = x * 2
    assert.is_false(cnn.istracked(y))
    assert_gradient_works()
    -- resumed, the suspended call finishes with its own tape
    local ok, g = coroutine.resume(co, 10)
    assert.is_true(ok)
    assert.are.same({20, 40, 60}, g:totable())
    assert_gradient_works()
  end)

  it("keeps two gradients suspended in two coroutines apart", function()
    local a, b = suspended_in_gradient(), suspended_in_gradient()
    local _, gb = coroutine.resume(b, 3)
    local _, ga = coroutine.resume(a, 5)
    assert.are.same({6, 12, 18}, gb:totable())
    assert.are.same({10, 20, 30}, ga:totable())
  end)

  it("records the ops of coroutines that f itself runs", function()
    local g = cnn.gradient(function(v)
      local twice = coroutine.wrap(function() coroutine.yield(v * 2) end)
      return cnn.sum(twice())
    end, x)
    assert.are.same({2, 2, 2}, g:totable())
  end)

  it("still refuses a gradient nested inside f", function()
    assert.are.equal("gradient: nested gradient calls are not supported",
      helpers.error_message(cnn.gradient, function(v) return cnn.gradient(square_sum, v) end, x))
    assert_gradient_works()
  end)
end)
