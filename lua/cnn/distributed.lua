--- The processes of a job started by Open MPI's `mpirun`: ranks, barriers,
-- reductions and broadcasts of tensors and numbers.
--
-- `mpirun -np 4 cnnlua script.lua` runs the script in 4 processes; each
-- is one rank of the job, numbered from 0 as MPI numbers them (not from
-- 1 as Lua's indices). A script started without mpirun is rank 0 of a
-- job of size 1 and every call here leaves its data as it is, so the same
-- script runs alone or in a job unchanged. Reductions and broadcasts are
-- collective: every rank must make the same calls in the same order.
-- @module cnn.distributed

local core = require "cnn.core"
local argcheck = require "cnn.argcheck"
local errors = require "cnn.errors"
local autograd = require "cnn.autograd"

local IN_PLACE = "it changes the tensor in place, unrecorded; reduce gradients, not tracked values"

local OPS = {"sum", "mean", "max", "min"}

local function check_op(fname, op)
  if op == nil then return "sum" end
  return argcheck.choice(fname, "op", op, OPS)
end

local function check_root(fname, root)
  if root == nil then return 0 end
  return argcheck.integer(fname, "root", root, 0, core.distributed_size() - 1)
end

-- Runs a binding, its message renamed after the public function.
local function call(fname, binding, f, ...)
  return errors.call_renamed(fname, binding, f, ...)
end

--- The job: `rank()`, `size()`, `barrier()`, `allreduce(t, op)`,
-- `allreduce_number(x, op)`, `broadcast(t, root)` and `available()`.
-- @table distributed
-- @usage if cnn.distributed.rank() == 0 then print("on", cnn.distributed.size(), "processes") end
local distributed = {}

--- This process's rank in the job, from 0 (MPI's numbering) to size() - 1;
-- 0 for a process started without mpirun.
-- @function distributed.rank
-- @treturn integer
-- @usage if cnn.distributed.rank() == 0 then print("the first process") end
function distributed.rank()
  return core.distributed_rank()
end

--- The number of processes in the job (`-np` of mpirun); 1 without mpirun.
-- @function distributed.size
-- @treturn integer
-- @usage print(cnn.distributed.size())
function distributed.size()
  return core.distributed_size()
end

--- Whether this cnnlua can join a job of several processes (it was built
-- with MPI), and if not, why: a cnnlua built without MPI started by
-- mpirun runs each process alone as rank 0 of 1.
-- @function distributed.available
-- @treturn boolean
-- @treturn string|nil why not
-- @usage print(cnn.distributed.available())
function distributed.available()
  local compiled, launcher = core.distributed_support()
  if compiled then return true end
  local why = "cnnlua was built without MPI (CMake option CNNLUA_MPI, package libopenmpi-dev)"
  if launcher then why = why .. "; it was started by an MPI launcher (" .. launcher .. ")" end
  return false, why
end

--- Waits until every rank of the job has called it.
-- @function distributed.barrier
-- @usage cnn.distributed.barrier()
function distributed.barrier()
  call("distributed.barrier", "distributed_barrier", core.distributed_barrier)
end

--- Reduces a tensor elementwise across the job, in place: afterwards every
-- rank holds the sum (or mean, max, min) of every rank's values. Float32
-- tensors take every op; Int32 tensors (counts) "sum", "max" and "min".
-- @function distributed.allreduce
-- @tparam Tensor t the tensor, of the same sizes on every rank
-- @tparam[opt="sum"] string op "sum", "mean", "max" or "min"
-- @treturn Tensor t
-- @usage local g = cnn.distributed.allreduce(cnn.ones(3), "mean")
function distributed.allreduce(t, op)
  argcheck.tensor("distributed.allreduce", "t", t)
  autograd.refuse_tracked("distributed.allreduce", t, IN_PLACE)
  op = check_op("distributed.allreduce", op)
  return call("distributed.allreduce", "distributed_allreduce", core.distributed_allreduce, t, op)
end

--- Reduces a number across the job (in double precision): the sum (or
-- mean, max, min) of every rank's x, on every rank.
-- @function distributed.allreduce_number
-- @tparam number x this rank's number
-- @tparam[opt="sum"] string op "sum", "mean", "max" or "min"
-- @treturn number
-- @usage local total = cnn.distributed.allreduce_number(#my_files)
function distributed.allreduce_number(x, op)
  if type(x) ~= "number" then argcheck.fail("distributed.allreduce_number", "x", "a number", x) end
  op = check_op("distributed.allreduce_number", op)
  return core.distributed_allreduce_number(x, op)
end

--- Copies root's tensor into t on every rank, in place.
-- @function distributed.broadcast
-- @tparam Tensor t the tensor, of the same sizes and type on every rank
-- @tparam[opt=0] integer root the rank whose values everyone gets
-- @treturn Tensor t
-- @usage for _, p in ipairs(cnn.params(model)) do cnn.distributed.broadcast(p, 0) end
function distributed.broadcast(t, root)
  argcheck.tensor("distributed.broadcast", "t", t)
  autograd.refuse_tracked("distributed.broadcast", t, IN_PLACE)
  root = check_root("distributed.broadcast", root)
  return call("distributed.broadcast", "distributed_broadcast", core.distributed_broadcast, t, root)
end

return distributed
