"""Writes a synthetic study as a PACS exports it, with pydicom.

usage: /usr/bin/python3 study_fixture.py DIR

DIR gets a CT series of four slices (CT/S1/IM0001..IM0004, 16x16 signed
16-bit, rescale -1024) and a second CT series of two slices that nothing
references (CT/S2), beside the objects a clinic sends with them, each
referencing real image UIDs of the first series:

  SEG/SEG1     a binary segmentation (BitsAllocated 1), one frame per
               referenced slice: Referenced Series Sequence, per-frame
               Derivation Image and Source Image Sequences
  RT/RS1       an RT structure set: contours on two slices (Contour Image
               Sequences, RT Referenced Series Sequence)
  RT/RP1       an RT plan referencing the structure set only
  PR/PR1       a grayscale softcopy presentation state on two slices
  KO/KO1       a key object selection flagging one slice
  SR/SR1       a comprehensive SR with an image reference in a nested
               content item, and one on the segmentation
  DOC/DOC1     an encapsulated PDF that references nothing
  DOC/DOC2     an encapsulated PDF whose source instance is a slice

The UIDs are fixed, so the files are the same on every run. No patient
data: every value is made up.
"""

import os
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

ROOT = "1.2.826.0.1.3680043.10.543."
STUDY = ROOT + "1"
FOR = ROOT + "2"
CT_SERIES = ROOT + "3"
CT2_SERIES = ROOT + "4"
CT = "1.2.840.10008.5.1.4.1.1.2"
SEG = "1.2.840.10008.5.1.4.1.1.66.4"
RTSTRUCT = "1.2.840.10008.5.1.4.1.1.481.3"
RTPLAN = "1.2.840.10008.5.1.4.1.1.481.5"
GSPS = "1.2.840.10008.5.1.4.1.1.11.1"
KOS = "1.2.840.10008.5.1.4.1.1.88.59"
COMP_SR = "1.2.840.10008.5.1.4.1.1.88.33"
PDF = "1.2.840.10008.5.1.4.1.1.104.1"


def base(sop_class, sop_uid, series_uid, modality, series_number):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = ROOT + "99"
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, sop_uid
    ds.StudyDate, ds.StudyTime = "20240102", "101500"
    ds.SeriesDate, ds.SeriesTime = "20240102", "101600"
    ds.AccessionNumber, ds.ReferringPhysicianName = "A1", ""
    ds.Modality = modality
    ds.Manufacturer = "dicom-remap tests"
    ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "Study^Synthetic", "SYN001", "19700101", "O"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = STUDY, series_uid
    ds.StudyID, ds.SeriesNumber, ds.InstanceNumber = "1", series_number, 1
    return ds


def ref(sop_class, sop_uid):
    item = Dataset()
    item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = sop_class, sop_uid
    return item


def ct_slice(series, n, z):
    uid = "%s.%d" % (series, n)
    ds = base(CT, uid, series, "CT", 1 if series == CT_SERIES else 2)
    ds.InstanceNumber = n
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.ContentDate, ds.ContentTime, ds.Laterality = "20240102", "101600", ""
    ds.FrameOfReferenceUID, ds.PositionReferenceIndicator = FOR, ""
    ds.PatientPosition = "HFS"
    ds.ImagePositionPatient = [-8, -8, z]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.SliceThickness, ds.SliceLocation, ds.KVP = 1, z, 120
    ds.PixelSpacing = [1, 1]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows = ds.Columns = 16
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
    ds.WindowCenter, ds.WindowWidth = 40, 400
    y, x = np.mgrid[0:16, 0:16]
    pixels = ((x * 37 + y * 11 + n * 101) % 1400 + 300).astype("<i2")
    ds.PixelData = pixels.tobytes()
    ds.AcquisitionNumber = 1
    return ds


def segmentation(slices):
    ds = base(SEG, ROOT + "10.1", ROOT + "10", "SEG", 10)
    ds.ImageType = ["DERIVED", "PRIMARY"]
    ds.ContentDate, ds.ContentTime = "20240102", "101600"
    ds.FrameOfReferenceUID, ds.PositionReferenceIndicator = FOR, ""
    ds.SeriesDescription = "segmentation"
    ds.ContentLabel, ds.ContentDescription, ds.ContentCreatorName = "SEG", "a box", "Tester^A"
    ds.SegmentationType = "BINARY"
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows = ds.Columns = 16
    ds.BitsAllocated = ds.BitsStored = 1
    ds.HighBit, ds.PixelRepresentation = 0, 0
    ds.LossyImageCompression = "00"
    ds.NumberOfFrames = len(slices)
    ds.InstanceNumber = 1
    ds.SoftwareVersions, ds.DeviceSerialNumber, ds.ManufacturerModelName = "1", "1", "tests"
    series = Dataset()
    series.SeriesInstanceUID = CT_SERIES
    series.ReferencedInstanceSequence = Sequence([ref(CT, s.SOPInstanceUID) for s in slices])
    ds.ReferencedSeriesSequence = Sequence([series])
    segment = Dataset()
    segment.SegmentNumber, segment.SegmentLabel, segment.SegmentAlgorithmType = 1, "box", "MANUAL"
    for kw, (value, scheme, meaning) in (
            ("SegmentedPropertyCategoryCodeSequence", ("91723000", "SCT", "Anatomical Structure")),
            ("SegmentedPropertyTypeCodeSequence", ("818981001", "SCT", "Abdomen"))):
        code = Dataset()
        code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = value, scheme, meaning
        setattr(segment, kw, Sequence([code]))
    ds.SegmentSequence = Sequence([segment])
    dim = Dataset()
    dim.DimensionOrganizationUID = ROOT + "10.2"
    ds.DimensionOrganizationSequence = Sequence([dim])
    indices = []
    for pointer, group in ((0x0062000B, 0x0062000A), (0x00200032, 0x00209113)):
        index = Dataset()
        index.DimensionOrganizationUID = ROOT + "10.2"
        index.DimensionIndexPointer, index.FunctionalGroupPointer = pointer, group
        indices.append(index)
    ds.DimensionIndexSequence = Sequence(indices)
    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing, measures.SliceThickness = [1, 1], 1
    shared.PixelMeasuresSequence = Sequence([measures])
    orient = Dataset()
    orient.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    shared.PlaneOrientationSequence = Sequence([orient])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    frames = []
    for i, s in enumerate(slices):
        fg = Dataset()
        deriv = Dataset()
        code = Dataset()
        code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = "113076", "DCM", "Segmentation"
        deriv.DerivationCodeSequence = Sequence([code])
        src = ref(CT, s.SOPInstanceUID)
        purpose = Dataset()
        purpose.CodeValue, purpose.CodingSchemeDesignator, purpose.CodeMeaning = "121322", "DCM", "Source image for image processing operation"
        src.PurposeOfReferenceCodeSequence = Sequence([purpose])
        deriv.SourceImageSequence = Sequence([src])
        fg.DerivationImageSequence = Sequence([deriv])
        content = Dataset()
        content.DimensionIndexValues = [1, i + 1]
        fg.FrameContentSequence = Sequence([content])
        pos = Dataset()
        pos.ImagePositionPatient = list(s.ImagePositionPatient)
        fg.PlanePositionSequence = Sequence([pos])
        ident = Dataset()
        ident.ReferencedSegmentNumber = 1
        fg.SegmentIdentificationSequence = Sequence([ident])
        frames.append(fg)
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    mask = np.zeros((len(slices), 16, 16), dtype=np.uint8)
    mask[:, 4:12, 5:11] = 1
    ds.PixelData = np.packbits(mask.reshape(-1), bitorder="little").tobytes()
    ds["PixelData"].VR = "OB"
    return ds


def structure_set(slices):
    ds = base(RTSTRUCT, ROOT + "11.1", ROOT + "11", "RTSTRUCT", 11)
    ds.StructureSetLabel, ds.StructureSetDate, ds.StructureSetTime = "RS", "20240102", "101700"
    ds.FrameOfReferenceUID, ds.PositionReferenceIndicator = FOR, ""
    ds.OperatorsName = ""
    fr = Dataset()
    fr.FrameOfReferenceUID = FOR
    study = Dataset()
    study.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"
    study.ReferencedSOPInstanceUID = STUDY
    series = Dataset()
    series.SeriesInstanceUID = CT_SERIES
    series.ContourImageSequence = Sequence([ref(CT, s.SOPInstanceUID) for s in slices])
    study.RTReferencedSeriesSequence = Sequence([series])
    fr.RTReferencedStudySequence = Sequence([study])
    ds.ReferencedFrameOfReferenceSequence = Sequence([fr])
    roi = Dataset()
    roi.ROINumber, roi.ReferencedFrameOfReferenceUID, roi.ROIName, roi.ROIGenerationAlgorithm = 1, FOR, "box", "MANUAL"
    ds.StructureSetROISequence = Sequence([roi])
    contours = []
    for s in slices[1:3]:
        c = Dataset()
        c.ContourImageSequence = Sequence([ref(CT, s.SOPInstanceUID)])
        c.ContourGeometricType, c.NumberOfContourPoints = "CLOSED_PLANAR", 4
        z = float(s.ImagePositionPatient[2])
        c.ContourData = [-3, -3, z, 3, -3, z, 3, 3, z, -3, 3, z]
        contours.append(c)
    rc = Dataset()
    rc.ReferencedROINumber, rc.ROIDisplayColor = 1, [255, 0, 0]
    rc.ContourSequence = Sequence(contours)
    ds.ROIContourSequence = Sequence([rc])
    obs = Dataset()
    obs.ObservationNumber, obs.ReferencedROINumber, obs.RTROIInterpretedType, obs.ROIInterpreter = 1, 1, "ORGAN", ""
    ds.RTROIObservationsSequence = Sequence([obs])
    ds.ApprovalStatus = "UNAPPROVED"
    return ds


def plan(rs):
    ds = base(RTPLAN, ROOT + "12.1", ROOT + "12", "RTPLAN", 12)
    ds.RTPlanLabel, ds.RTPlanGeometry, ds.OperatorsName = "PLAN", "PATIENT", ""
    ds.RTPlanDate, ds.RTPlanTime = "20240102", "101900"
    ds.ReferencedStructureSetSequence = Sequence([ref(RTSTRUCT, rs.SOPInstanceUID)])
    ds.ApprovalStatus = "UNAPPROVED"
    return ds


def presentation_state(slices):
    ds = base(GSPS, ROOT + "13.1", ROOT + "13", "PR", 13)
    ds.ContentLabel, ds.ContentDescription, ds.ContentCreatorName = "PR", "a window", "Tester^A"
    ds.Laterality = ""
    ds.PresentationCreationDate, ds.PresentationCreationTime = "20240102", "101800"
    series = Dataset()
    series.SeriesInstanceUID = CT_SERIES
    series.ReferencedImageSequence = Sequence([ref(CT, s.SOPInstanceUID) for s in slices])
    ds.ReferencedSeriesSequence = Sequence([series])
    area = Dataset()
    area.DisplayedAreaTopLeftHandCorner, area.DisplayedAreaBottomRightHandCorner = [1, 1], [16, 16]
    area.PresentationSizeMode, area.PresentationPixelSpacing = "SCALE TO FIT", [1, 1]
    ds.DisplayedAreaSelectionSequence = Sequence([area])
    voi = Dataset()
    voi.WindowCenter, voi.WindowWidth = 40, 400
    ds.SoftcopyVOILUTSequence = Sequence([voi])
    ds.PresentationLUTShape = "IDENTITY"
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
    return ds


def code(value, scheme, meaning):
    c = Dataset()
    c.CodeValue, c.CodingSchemeDesignator, c.CodeMeaning = value, scheme, meaning
    return c


def evidence(slices, seg=None):
    study = Dataset()
    study.StudyInstanceUID = STUDY
    series = Dataset()
    series.SeriesInstanceUID = CT_SERIES
    series.ReferencedSOPSequence = Sequence([ref(CT, s.SOPInstanceUID) for s in slices])
    study.ReferencedSeriesSequence = Sequence([series])
    if seg is not None:
        other = Dataset()
        other.SeriesInstanceUID = seg.SeriesInstanceUID
        other.ReferencedSOPSequence = Sequence([ref(SEG, seg.SOPInstanceUID)])
        study.ReferencedSeriesSequence.append(other)
    return Sequence([study])


def image_item(s, relationship):
    item = Dataset()
    item.RelationshipType, item.ValueType = relationship, "IMAGE"
    item.ReferencedSOPSequence = Sequence([ref(CT, s.SOPInstanceUID)])
    return item


def key_objects(slices):
    ds = base(KOS, ROOT + "14.1", ROOT + "14", "KO", 14)
    ds.ReferencedPerformedProcedureStepSequence = Sequence([])
    ds.ContentDate, ds.ContentTime = "20240102", "101600"
    ds.ValueType, ds.ContinuityOfContent = "CONTAINER", "SEPARATE"
    ds.ConceptNameCodeSequence = Sequence([code("113000", "DCM", "Of Interest")])
    template = Dataset()
    template.MappingResource, template.TemplateIdentifier = "DCMR", "2010"
    ds.ContentTemplateSequence = Sequence([template])
    ds.CurrentRequestedProcedureEvidenceSequence = evidence(slices[:1])
    ds.ContentSequence = Sequence([image_item(slices[0], "CONTAINS")])
    return ds


def report(slices, seg):
    ds = base(COMP_SR, ROOT + "15.1", ROOT + "15", "SR", 15)
    ds.ReferencedPerformedProcedureStepSequence = Sequence([])
    ds.CompletionFlag, ds.VerificationFlag = "COMPLETE", "UNVERIFIED"
    ds.PerformedProcedureCodeSequence = Sequence([])
    ds.ContentDate, ds.ContentTime = "20240102", "101600"
    ds.ValueType, ds.ContinuityOfContent = "CONTAINER", "SEPARATE"
    ds.ConceptNameCodeSequence = Sequence([code("18748-4", "LN", "Diagnostic Imaging Report")])
    ds.CurrentRequestedProcedureEvidenceSequence = evidence(slices[2:4], seg)
    finding = Dataset()
    finding.RelationshipType, finding.ValueType, finding.TextValue = "CONTAINS", "TEXT", "a finding"
    finding.ConceptNameCodeSequence = Sequence([code("121071", "DCM", "Finding")])
    finding.ContentSequence = Sequence([image_item(slices[3], "INFERRED FROM")])
    on_seg = Dataset()
    on_seg.RelationshipType, on_seg.ValueType = "CONTAINS", "IMAGE"
    on_seg.ReferencedSOPSequence = Sequence([ref(SEG, seg.SOPInstanceUID)])
    ds.ContentSequence = Sequence([finding, image_item(slices[2], "CONTAINS"), on_seg])
    return ds


def pdf(uid, source=None):
    ds = base(PDF, uid, ROOT + "16", "DOC", 16)
    ds.ConversionType, ds.BurnedInAnnotation = "WSD", "YES"
    ds.ContentDate, ds.ContentTime, ds.AcquisitionDateTime = "20240102", "101600", ""
    ds.DocumentTitle, ds.MIMETypeOfEncapsulatedDocument = "a note", "application/pdf"
    ds.ConceptNameCodeSequence = Sequence([])
    body = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
    ds.EncapsulatedDocument = body + b"\0" * (len(body) % 2)
    ds.EncapsulatedDocumentLength = len(body)
    if source is not None:
        ds.SourceInstanceSequence = Sequence([ref(CT, source.SOPInstanceUID)])
    return ds


def save(ds, directory, name, implicit=False):
    os.makedirs(directory, exist_ok=True)
    if implicit:
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    ds.is_little_endian, ds.is_implicit_VR = True, implicit
    ds.save_as(os.path.join(directory, name), write_like_original=False)


def main():
    out = sys.argv[1]
    slices = [ct_slice(CT_SERIES, n, float(n)) for n in range(1, 5)]
    for i, s in enumerate(slices):
        save(s, os.path.join(out, "CT", "S1"), "IM%04d" % (i + 1))
    for n in (1, 2):
        save(ct_slice(CT2_SERIES, n, float(n)), os.path.join(out, "CT", "S2"), "IM%04d" % n)
    rs = structure_set(slices)
    seg = segmentation(slices[:3])
    save(seg, os.path.join(out, "SEG"), "SEG1")
    save(rs, os.path.join(out, "RT"), "RS1", implicit=True)  # RT systems often write Implicit VR
    save(plan(rs), os.path.join(out, "RT"), "RP1")
    save(presentation_state(slices[:2]), os.path.join(out, "PR"), "PR1")
    save(key_objects(slices), os.path.join(out, "KO"), "KO1")
    save(report(slices, seg), os.path.join(out, "SR"), "SR1")
    save(pdf(ROOT + "16.1"), os.path.join(out, "DOC"), "DOC1")
    save(pdf(ROOT + "16.2", slices[0]), os.path.join(out, "DOC"), "DOC2")


if __name__ == "__main__":
    main()
