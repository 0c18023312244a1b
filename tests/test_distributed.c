/* Unit tests of the job of processes in a process that no launcher
 * started: a job of one, MPI never initialised, the reductions leaving
 * their data as it is, the bucket scaling and unpacking, and the refused
 * arguments. (Jobs of several processes are spec/distributed_spec.lua's.) */
#include "distributed.h"
#include "test_util.h"

static void fill_range(cnn_tensor *t)
{
    float *p = cnn_tensor_f32(t);
    for (int64_t i = 0; i < cnn_tensor_numel(t); i++)
        p[i] = (float)(i + 1);
}

static void test_alone_is_a_job_of_one(void)
{
    unsetenv("OMPI_COMM_WORLD_SIZE");
    unsetenv("OMPI_COMM_WORLD_RANK");
    unsetenv("PMIX_RANK");
    EXPECT(cnn_distributed_launcher() == NULL);
    EXPECT_OK(cnn_distributed_start(NULL, NULL));
    EXPECT(!cnn_distributed_joined());
    EXPECT(cnn_distributed_rank() == 0);
    EXPECT(cnn_distributed_size() == 1);
    EXPECT_OK(cnn_distributed_barrier());
    cnn_distributed_abort(1); /* returns: nothing to end */
    cnn_distributed_finish();
}

static void test_launcher_is_read_from_the_environment(void)
{
    setenv("OMPI_COMM_WORLD_SIZE", "4", 1);
    const char *l = cnn_distributed_launcher();
    EXPECT(l != NULL && strcmp(l, "OMPI_COMM_WORLD_SIZE=4") == 0);
    unsetenv("OMPI_COMM_WORLD_SIZE");
    setenv("PMIX_RANK", "2", 1);
    l = cnn_distributed_launcher();
    EXPECT(l != NULL && strcmp(l, "PMIX_RANK=2") == 0);
    unsetenv("PMIX_RANK");
    EXPECT(cnn_distributed_launcher() == NULL);
}

static void test_ops_parse(void)
{
    cnn_reduce_op op;
    EXPECT(cnn_reduce_op_parse("sum", &op) && op == CNN_REDUCE_OP_SUM);
    EXPECT(cnn_reduce_op_parse("mean", &op) && op == CNN_REDUCE_OP_MEAN);
    EXPECT(cnn_reduce_op_parse("max", &op) && op == CNN_REDUCE_OP_MAX);
    EXPECT(cnn_reduce_op_parse("min", &op) && op == CNN_REDUCE_OP_MIN);
    EXPECT(!cnn_reduce_op_parse("avg", &op));
    EXPECT(!cnn_reduce_op_parse("", &op));
}

static void test_reductions_alone_keep_the_data(void)
{
    int64_t size[2] = {3, 4};
    cnn_tensor t = make_tensor(CNN_FLOAT32, 2, size);
    fill_range(&t);
    EXPECT_OK(cnn_distributed_allreduce(&t, CNN_REDUCE_OP_MEAN));
    EXPECT_OK(cnn_distributed_broadcast(&t, 0));
    for (int64_t i = 0; i < 12; i++)
        EXPECT(cnn_tensor_f32(&t)[i] == (float)(i + 1));
    double v[2] = {2.5, -1};
    EXPECT_OK(cnn_distributed_allreduce_doubles(v, 2, CNN_REDUCE_OP_MAX));
    EXPECT(v[0] == 2.5 && v[1] == -1);
    EXPECT(cnn_distributed_broadcast(&t, 1) == CNN_ERR_ARG);
    EXPECT(strstr(cnn_error_message(), "root is rank 1; ranks are 0 to 0") != NULL);
    drop_tensor(&t);

    cnn_tensor counts = make_tensor(CNN_INT32, 1, size);
    EXPECT_OK(cnn_distributed_allreduce(&counts, CNN_REDUCE_OP_SUM));
    EXPECT(cnn_distributed_allreduce(&counts, CNN_REDUCE_OP_MEAN) == CNN_ERR_ARG);
    EXPECT(strstr(cnn_error_message(), "mean of an Int32 tensor") != NULL);
    drop_tensor(&counts);
}

/* Alone the bucket's sum is each tensor scaled, views included, and the
 * extras as given. */
static void test_bucket_scales_and_unpacks(void)
{
    int64_t sa[2] = {2, 3}, sb[1] = {5};
    cnn_tensor a = make_tensor(CNN_FLOAT32, 2, sa);
    cnn_tensor b = make_tensor(CNN_FLOAT32, 1, sb);
    fill_range(&a);
    fill_range(&b);
    cnn_tensor column = a; /* the second column of a, a view */
    cnn_tensor_narrow(&column, 1, 1, 1);
    cnn_tensor *ts[2] = {&column, &b};
    float extras[2] = {0.75f, 3};
    EXPECT_OK(cnn_distributed_allreduce_bucket(ts, 2, 0.5f, extras, 2));
    const float *pa = cnn_tensor_f32(&a), *pb = cnn_tensor_f32(&b);
    EXPECT(pa[0] == 1 && pa[1] == 2 && pa[2] == 1.5f && pa[3] == 2 && pa[4] == 5 &&
           pa[5] == 6);
    for (int i = 0; i < 5; i++)
        EXPECT(pb[i] == 0.5f * (float)(i + 1));
    EXPECT(extras[0] == 0.75f && extras[1] == 3);

    cnn_tensor ints = make_tensor(CNN_INT32, 1, sb);
    cnn_tensor *wrong[1] = {&ints};
    EXPECT(cnn_distributed_allreduce_bucket(wrong, 1, 1, extras, 0) == CNN_ERR_ARG);
    EXPECT(strstr(cnn_error_message(), "tensor 1 is Int32, not Float32") != NULL);
    drop_tensor(&ints);
    drop_tensor(&a);
    drop_tensor(&b);
}

int main(void)
{
    test_alone_is_a_job_of_one();
    test_launcher_is_read_from_the_environment();
    test_ops_parse();
    test_reductions_alone_keep_the_data();
    test_bucket_scales_and_unpacks();
    cnn_distributed_finish();
    return test_report();
}
