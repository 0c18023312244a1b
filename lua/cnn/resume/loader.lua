--- A DataLoader in a checkpoint: what it was made with, to check it is
-- the same loader ("loader.nobs", "loader.batchsize", "loader.shuffle",
-- "loader.partial", "loader.rng"), and its position ("loader.passes",
-- "loader.batch" and the current pass's order, "loader.order").
-- @module cnn.resume.loader

local values = require "cnn.resume.values"

local part = {}

-- The loader's position: `passes` (shuffles started), the current pass's
-- `order` (an Int32 tensor) and `batch` (batches given from it), or no
-- order when the current pass is over or none has begun.
local function position_of(loader)
  local pass = loader.pass
  if pass == nil or pass.batch >= loader.nbatches then return {passes = loader.passes, batch = 0} end
  return {passes = loader.passes, batch = pass.batch, order = pass.order}
end

-- Goes back to a position: the next loop continues that pass after its
-- `batch` batches, or starts the next pass if it has no order.
local function restore(loader, position)
  loader.passes = position.passes
  if position.order then
    loader.pass, loader.resumed = {order = position.order, batch = position.batch}, true
  else
    loader.pass, loader.resumed = nil, nil
  end
end

-- What a loader is made with, as stored values.
local function settings(loader)
  return {nobs = loader.nobs, batchsize = loader.batchsize, shuffle = loader.shuffle,
    partial = loader.partial, rng = loader.seed or "none"}
end

--- Adds the loader's entries to `tensors` and `meta`.
function part.save(loader, tensors, meta)
  for k, v in pairs(settings(loader)) do meta["loader." .. k] = values.encode(v) end
  local position = position_of(loader)
  meta["loader.passes"] = values.encode(position.passes)
  meta["loader.batch"] = values.encode(position.batch)
  tensors["loader.order"] = position.order
end

--- Checks the loader's entries against `loader`; returns the function
-- that restores its position.
function part.check(entries, loader)
  local names = {}
  for k in pairs(settings(loader)) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do
    local want, got = settings(loader)[k], entries:value("loader." .. k)
    if got ~= want then
      entries:fail("loader." .. k, ("is %s, but the loader's is %s"):format(tostring(got), tostring(want)))
    end
  end
  local position = {passes = entries:integer("loader.passes", 0)}
  position.batch = entries:integer("loader.batch", 0, math.max(loader.nbatches - 1, 0))
  if position.batch > 0 then
    local order = entries:tensor("loader.order")
    if order:dtype() ~= "Int32" or order:ndims() ~= 1 or order:numel() ~= loader.nobs then
      entries:fail("loader.order", ("is a %s %s tensor, expected an Int32 vector of %d"):format(
        order:dtype(), table.concat(order:size(), "×"), loader.nobs))
    end
    local seen = {}
    for i, v in ipairs(order:totable()) do
      if v < 1 or v > loader.nobs or seen[v] then
        entries:fail("loader.order", ("is not an order of 1..%d (its entry %d is %d)"):format(loader.nobs, i, v))
      end
      seen[v] = true
    end
    position.order = order
  end
  return function() restore(loader, position) end
end

return part
