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
