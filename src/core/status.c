#include "status.h"

#include <stdarg.h>
#include <stdio.h>

static char last_message[1024];

cnn_status cnn_fail(cnn_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    return status;
}

const char *cnn_error_message(void) { return last_message; }
