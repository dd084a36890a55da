#include <stdio.h>
#include <hdf5.h>
/* Function-like macros and macro constants of HDF5 do not import into Swift;
   these inline functions return them. */
static inline hid_t lpom_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t lpom_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t lpom_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
static inline hid_t lpom_H5T_NATIVE_INT32(void) { return H5T_NATIVE_INT32; }
static inline hid_t lpom_H5T_C_S1(void) { return H5T_C_S1; }
static inline hid_t lpom_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline hid_t lpom_H5P_FILE_ACCESS(void) { return H5P_FILE_ACCESS; }
static inline hid_t lpom_H5P_LINK_CREATE(void) { return H5P_LINK_CREATE; }
static inline hid_t lpom_H5P_DEFAULT(void) { return H5P_DEFAULT; }
static inline hid_t lpom_H5S_ALL(void) { return H5S_ALL; }
static inline hid_t lpom_H5E_DEFAULT(void) { return H5E_DEFAULT; }
static inline unsigned lpom_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }
static inline unsigned lpom_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned lpom_H5F_ACC_RDWR(void) { return H5F_ACC_RDWR; }
static inline size_t lpom_H5T_VARIABLE(void) { return H5T_VARIABLE; }
static inline hsize_t lpom_H5S_UNLIMITED(void) { return H5S_UNLIMITED; }
/* Silence HDF5's own error printing; errors are turned into Swift errors. */
static inline void lpom_h5_silence(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
static inline void lpom_h5_clear(void) { H5Eclear2(H5E_DEFAULT); }
static inline hid_t lpom_H5P_DATASET_ACCESS(void) { return H5P_DATASET_ACCESS; }
static inline hid_t lpom_H5S_SCALAR_create(void) { return H5Screate(H5S_SCALAR); }
static inline hid_t lpom_H5T_STD_I64LE(void) { return H5T_STD_I64LE; }
static inline hid_t lpom_H5T_IEEE_F32LE(void) { return H5T_IEEE_F32LE; }
static inline hid_t lpom_H5T_IEEE_F64LE(void) { return H5T_IEEE_F64LE; }
/* Copies the description of the innermost record of this thread's HDF5 error stack (where
   the problem was detected, e.g. "truncated file: eof = ...") into buf, then clears the
   stack. Returns 1 if a description was found. */
typedef struct { char *buf; size_t size; int found; } lpom_h5_err_ctx;
static herr_t lpom_h5_err_walk(unsigned n, const H5E_error2_t *err, void *data) {
    lpom_h5_err_ctx *ctx = (lpom_h5_err_ctx *)data;
    (void)n;
    if (!ctx->found && err != NULL && err->desc != NULL && err->desc[0] != '\0') {
        snprintf(ctx->buf, ctx->size, "%s", err->desc);
        ctx->found = 1;
    }
    return 0;
}
static inline int lpom_h5_innermost_error(char *buf, size_t size) {
    lpom_h5_err_ctx ctx = { buf, size, 0 };
    if (size > 0) buf[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, lpom_h5_err_walk, &ctx);
    H5Eclear2(H5E_DEFAULT);
    return ctx.found;
}
static inline hid_t lpom_H5P_GROUP_CREATE(void) { return H5P_GROUP_CREATE; }
static inline hid_t lpom_H5P_FILE_CREATE(void) { return H5P_FILE_CREATE; }
